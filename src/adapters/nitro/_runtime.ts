// Runs inside the built Nitro server (bundled by Nitro): mounts the queued storage from runtime config. It imports
// nothing from Nitro: the generated plugin hands over `useRuntimeConfig`/`useStorage` of the Nitro that builds it
// (`nitropack/runtime` for Nitro 2, `nitro/runtime` for Nitro 3), so one file serves both majors.
import type { Driver, Storage } from "unstorage";
import type { TransferHandlerOptions } from "../../queues/qstash.ts";
import type { FileHandlerOptions } from "../../serve/handler.ts";
import { _serveSettings } from "../../serve/_settings.ts";
import { queuedDriver } from "../../core/storage.ts";
import { transfer, transferAndDelete } from "../../tasks.ts";
import type { FlagStore, TransferQueue } from "../../contracts.ts";
import type { QueuedStorageControls } from "../../types.ts";
import { _withoutEmpty, type QueuedStorageRuntimeConfig } from "./_config.ts";
import type { NitroFileHandlerOptions } from "./_options.ts";
import { _error } from "../../_errors.ts";
import { _keepStatusOptions } from "./_status-options.ts";

/** What the generated plugin imports statically, as chosen at build time. */
export interface _NitroFactories {
  local: (options: object) => Driver;
  remote: (options: object) => Driver;
  qstashQueue?: (options: { url: string; token?: string; baseUrl?: string }) => TransferQueue;
  upstashFlags?: (options: { url?: string; token?: string; prefix?: string }) => FlagStore;
  /** The module named by `serve.options` (`file`: the path as configured, for error messages), imported whole. */
  serveOptions?: { file: string; module: { default?: unknown } };
  /** The remote used while the S3 remote has no endpoint or bucket (the fs driver in `.data/remote`); absent with `production`. */
  fallbackRemote?: (options: object) => Driver;
  /** `production: true` of the module: missing credentials stop the server instead of falling back. */
  production?: boolean;
  /** The module named by `status.options`, imported whole (issue 21). */
  statusOptions?: { file: string; module: { default?: unknown } };
}

/** The two runtime functions of the Nitro that built the app. */
export interface _NitroRuntime {
  useRuntimeConfig: () => Record<string, unknown>;
  useStorage: () => Pick<Storage, "mount">;
}

let _controls: QueuedStorageControls | undefined;
let _config: QueuedStorageRuntimeConfig | undefined;
let _code: NitroFileHandlerOptions | undefined;

/** Build the queued driver from runtime config and mount it at `base`. Called once by the generated plugin. */
export function _mountQueuedStorage(factories: _NitroFactories, nitro: _NitroRuntime): void {
  const config = (_config = nitro.useRuntimeConfig().queuedStorage as QueuedStorageRuntimeConfig);
  // Checked before anything is mounted, with createFileHandler's own checks: a bad file stops the server at startup,
  // not at the first request to the route.
  _code = factories.serveOptions ? _codeOptions(factories.serveOptions) : undefined;
  if (factories.serveOptions) _inFile(factories.serveOptions.file, () => _serveSettings(_serveOptions()));
  const { driver: _local, ...localOptions } = config.local;
  const { driver: _remote, ...remoteOptions } = config.remote;
  const qstash = _withoutEmpty(config.qstash);
  const missing = _missingServices(config, factories);
  const offline = { queue: missing.queue.length > 0, flags: missing.flags.length > 0, remote: missing.remote.length > 0 };
  const names = [...missing.queue, ...missing.flags, ...missing.remote];
  if (names.length && factories.production) {
    throw new Error(`[queued-storage] [nitro] production: true, and these are not set: ${names.join(", ")}`);
  }
  if (names.length) {
    const parts = [
      offline.queue ? "the in-process queue (transfers run in this process)" : "",
      offline.flags ? "in-process state (one instance)" : "",
      offline.remote ? "the fs driver in ./.data/remote as the remote" : "",
    ].filter(Boolean);
    console.warn(`[queued-storage] [nitro] not set: ${names.join(", ")}; using ${parts.join(", ")}. Set them, or production: true to make this an error.`);
  }
  const driver = queuedDriver({
    local: factories.local(_withoutEmpty(localOptions)),
    remote: offline.remote && factories.fallbackRemote ? factories.fallbackRemote({ base: "./.data/remote" }) : factories.remote(_withoutEmpty(remoteOptions)),
    queue: offline.queue ? undefined : factories.qstashQueue?.({ ...qstash, url: qstash.url ?? "" }),
    flags: offline.flags ? undefined : factories.upstashFlags?.(_withoutEmpty(config.upstash)),
    task: config.task === "transferAndDelete" ? transferAndDelete : transfer,
    delayed: config.delayed === true,
    prefix: config.prefix || undefined,
    localUrl: config.serve?.route ? `${config.serve.route.replace(/\/+$/, "")}/` : undefined,
  });
  _controls = driver.getInstance!();
  // The status page's options (token from config, code from status.options), checked before the mount.
  if (config.status?.route) _keepStatusOptions(config.status, factories.statusOptions, _controls);
  nitro.useStorage().mount(config.base, driver);
}

/** The controls (`transfer`, `status`, `sync`, `handle`, …) of the mounted queued storage. */
export function _useControls(): QueuedStorageControls {
  if (!_controls) throw _error("the queued storage is not mounted: is the module's plugin running?", { scope: "nitro" });
  return _controls;
}

/**
 * Options of the file handler: runtime config, then the `serve.options` module over it (a key that module sets wins,
 * env overrides included); the route always comes from config, since it was registered at build time.
 */
export function _serveOptions(): FileHandlerOptions {
  if (!_config) throw _error("the queued storage is not mounted: is the module's plugin running?", { scope: "nitro" });
  const { route, redirect, cacheControl, contentDisposition } = _config.serve;
  return {
    redirect: redirect === true,
    cacheControl: cacheControl || false,
    contentDisposition: contentDisposition === "inline" || contentDisposition === "attachment" ? contentDisposition : undefined,
    ..._code,
    route,
  };
}

/** Options of the webhook handler from runtime config. */
export function _handlerOptions(): TransferHandlerOptions {
  if (!_config) throw _error("the queued storage is not mounted: is the module's plugin running?", { scope: "nitro" });
  const { url, currentSigningKey, nextSigningKey } = _withoutEmpty(_config.qstash);
  return { url, currentSigningKey, nextSigningKey };
}

// --- internal ---

/**
 * What the configured services lack, by the names a user sets (env, as the SDKs and Nitro's runtime config read it):
 * QStash (token, webhook URL, signing keys), Upstash (REST URL and token), the S3 remote (endpoint, bucket, keys).
 */
function _missingServices(config: QueuedStorageRuntimeConfig, factories: _NitroFactories): { queue: string[]; flags: string[]; remote: string[] } {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const given = (value: unknown, envName?: string): boolean => (typeof value === "string" && value !== "") || (!!envName && !!env[envName]);
  const check = (entries: Array<[string, boolean]>): string[] => entries.filter(([, ok]) => !ok).map(([name]) => name);
  const { qstash, upstash } = config;
  const remote = config.remote as Record<string, unknown>;
  return {
    queue: factories.qstashQueue
      ? check([
          ["QSTASH_TOKEN", given(qstash.token, "QSTASH_TOKEN")],
          ["NITRO_QUEUED_STORAGE_QSTASH_URL", given(qstash.url)],
          ["QSTASH_CURRENT_SIGNING_KEY", given(qstash.currentSigningKey, "QSTASH_CURRENT_SIGNING_KEY")],
          ["QSTASH_NEXT_SIGNING_KEY", given(qstash.nextSigningKey, "QSTASH_NEXT_SIGNING_KEY")],
        ])
      : [],
    flags: factories.upstashFlags
      ? check([
          ["UPSTASH_REDIS_REST_URL", given(upstash.url, "UPSTASH_REDIS_REST_URL")],
          ["UPSTASH_REDIS_REST_TOKEN", given(upstash.token, "UPSTASH_REDIS_REST_TOKEN")],
        ])
      : [],
    remote: config.remote.driver === "queued-storage/drivers/s3"
      ? check([
          ["NITRO_QUEUED_STORAGE_REMOTE_ENDPOINT", given(remote.endpoint)],
          ["NITRO_QUEUED_STORAGE_REMOTE_BUCKET", given(remote.bucket)],
          ["NITRO_QUEUED_STORAGE_REMOTE_ACCESS_KEY_ID", given(remote.accessKeyId)],
          ["NITRO_QUEUED_STORAGE_REMOTE_SECRET_ACCESS_KEY", given(remote.secretAccessKey)],
        ])
      : [],
  };
}

/** Every key of the code options: a misspelt one (`authorise`) fails at startup instead of being ignored. */
const CODE_KEYS: Record<keyof NitroFileHandlerOptions, true> = {
  cacheControl: true, contentDisposition: true, contentType: true, redirect: true, upload: true, authorize: true, onError: true,
};

/** The default export of the `serve.options` module, checked, without its `undefined` keys (those leave config's value). */
function _codeOptions({ file, module }: NonNullable<_NitroFactories["serveOptions"]>): NitroFileHandlerOptions {
  const given = module.default;
  return _inFile(file, () => {
    if (typeof given !== "object" || given === null || Array.isArray(given)) {
      const got = given === undefined ? "no default export" : Array.isArray(given) ? "an array" : given === null ? "null" : typeof given;
      throw new Error(`the default export must be an object of file handler options (export default defineFileHandlerOptions({ … })), got ${got}`);
    }
    const value = (key: string): unknown => (given as Record<string, unknown>)[key];
    if (value("route") !== undefined) throw new Error("`route` is not an option here: the route is `serve.route` of the config (registered at build time)");
    const notFunction = ["authorize", "contentType", "onError"].find((key) => value(key) !== undefined && typeof value(key) !== "function");
    if (notFunction) throw new Error(`\`${notFunction}\` must be a function`);
    const unknown = Object.keys(given).filter((key) => !Object.hasOwn(CODE_KEYS, key));
    if (unknown.length) throw new Error(`unknown option ${unknown.map((k) => `\`${k}\``).join(", ")}; known: ${Object.keys(CODE_KEYS).join(", ")}`);
    return Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as NitroFileHandlerOptions;
  });
}

/** Run `check`, naming `serve.options` and its file in what it throws: the user's mistake is in that file. */
function _inFile<T>(file: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/^\[queued-storage\] /, "") : String(error);
    throw _error(`serve.options (${JSON.stringify(file)}): ${message}`, { scope: "nitro", cause: error });
  }
}
