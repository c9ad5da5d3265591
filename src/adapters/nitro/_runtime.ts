// Runs inside the built Nitro server (bundled by Nitro): mounts the queued storage from runtime config. It imports
// nothing from Nitro: the generated plugin hands over `useRuntimeConfig`/`useStorage` of the Nitro that builds it
// (`nitropack/runtime` for Nitro 2, `nitro/runtime` for Nitro 3), so one file serves both majors.
import type { Driver, Storage } from "unstorage";
import type { TransferHandlerOptions } from "../../queues/qstash.ts";
import type { FileHandlerOptions } from "../../serve/handler.ts";
import { queuedDriver } from "../../core/storage.ts";
import { transfer, transferAndDelete } from "../../tasks.ts";
import type { FlagStore, QueuedStorageControls, TransferQueue } from "../../types.ts";
import { _withoutEmpty, type QueuedStorageRuntimeConfig } from "./_config.ts";

/** What the generated plugin imports statically, as chosen at build time. */
export interface _NitroFactories {
  local: (options: object) => Driver;
  remote: (options: object) => Driver;
  qstashQueue?: (options: { url: string; token?: string; baseUrl?: string }) => TransferQueue;
  upstashFlags?: (options: { url?: string; token?: string; prefix?: string }) => FlagStore;
}

/** The two runtime functions of the Nitro that built the app. */
export interface _NitroRuntime {
  useRuntimeConfig: () => Record<string, unknown>;
  useStorage: () => Pick<Storage, "mount">;
}

let _controls: QueuedStorageControls | undefined;
let _config: QueuedStorageRuntimeConfig | undefined;

/** Build the queued driver from runtime config and mount it at `base`. Called once by the generated plugin. */
export function _mountQueuedStorage(factories: _NitroFactories, nitro: _NitroRuntime): void {
  const config = (_config = nitro.useRuntimeConfig().queuedStorage as QueuedStorageRuntimeConfig);
  const { driver: _local, ...localOptions } = config.local;
  const { driver: _remote, ...remoteOptions } = config.remote;
  const qstash = _withoutEmpty(config.qstash);
  const driver = queuedDriver({
    local: factories.local(_withoutEmpty(localOptions)),
    remote: factories.remote(_withoutEmpty(remoteOptions)),
    queue: factories.qstashQueue?.({ ...qstash, url: qstash.url ?? "" }),
    flags: factories.upstashFlags?.(_withoutEmpty(config.upstash)),
    task: config.task === "transferAndDelete" ? transferAndDelete : transfer,
    delayed: config.delayed === true,
    prefix: config.prefix || undefined,
    localUrl: config.serve?.route ? `${config.serve.route.replace(/\/+$/, "")}/` : undefined,
  });
  _controls = driver.getInstance!();
  nitro.useStorage().mount(config.base, driver);
}

/** The controls (`transfer`, `status`, `sync`, `handle`, …) of the mounted queued storage. */
export function _useControls(): QueuedStorageControls {
  if (!_controls) throw new Error("[queued-storage] [nitro] the queued storage is not mounted: is the module's plugin running?");
  return _controls;
}

/** Options of the file handler from runtime config. */
export function _serveOptions(): FileHandlerOptions {
  if (!_config) throw new Error("[queued-storage] [nitro] the queued storage is not mounted: is the module's plugin running?");
  const { route, redirect, cacheControl, contentDisposition } = _config.serve;
  return {
    route,
    redirect: redirect === true,
    cacheControl: cacheControl || false,
    contentDisposition: contentDisposition === "inline" || contentDisposition === "attachment" ? contentDisposition : undefined,
  };
}

/** Options of the webhook handler from runtime config. */
export function _handlerOptions(): TransferHandlerOptions {
  if (!_config) throw new Error("[queued-storage] [nitro] the queued storage is not mounted: is the module's plugin running?");
  const { url, currentSigningKey, nextSigningKey } = _withoutEmpty(_config.qstash);
  return { url, currentSigningKey, nextSigningKey };
}
