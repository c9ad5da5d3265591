import { createStorage, type Driver, type Storage } from "unstorage";
import { _createContext, type _Context } from "./context.ts";
import { _createControls } from "./controls.ts";
import { _error } from "../_errors.ts";
import { _normalizeKey } from "../_keys.ts";
import { _assertDriverOption } from "./_resolve.ts";
import { _accessOf, _registerAccess } from "./_access.ts";
import { _write } from "./write.ts";
import { _read, _readKeys, _readMeta } from "./read.ts";
import { _clear, _remove } from "./remove.ts";
import type { TransferConsumer } from "../contracts.ts";
import type { QueuedStorageControls, QueuedStorageOptions } from "../types.ts";

const DRIVER_NAME = "queued-storage";

/** An unstorage Storage over a queued driver, carrying the transfer controls. */
export type QueuedStorage = Storage & QueuedStorageControls;

/**
 * The queued unstorage driver: writes land on `local` at once, a transfer to `remote` is queued, reads follow the
 * per-key transfer state. `getInstance()` returns the controls (`transfer`, `status`, `sync`, `drain`, …).
 *
 * @example
 * const storage = createStorage({ driver: queuedDriver({ local: fsDriver({ base: "./.data" }), remote: s3Driver({ … }) }) });
 */
export function queuedDriver(options: QueuedStorageOptions): Driver<QueuedStorageOptions, QueuedStorageControls> {
  if (!options || typeof options !== "object") throw _error("queuedDriver(options): `options` must be an object");
  _assertDriverOption("local", options.local);
  _assertDriverOption("remote", options.remote);
  const ctx = _createContext(options);
  const controls = _createControls(ctx);
  const consumer: TransferConsumer = { handle: controls.handle, fail: controls.fail };
  ctx.queue.attach?.(consumer, { retries: ctx.options.retries, retryDelay: ctx.options.retryDelay });

  let disposed: Promise<void> | undefined;
  const hasDepthFlag = { maxDepth: true, streams: true };

  const driver: Driver<QueuedStorageOptions, QueuedStorageControls> = {
    name: DRIVER_NAME,
    options,
    flags: hasDepthFlag,
    getInstance: () => controls,
    hasItem: (key, opts) => _read(ctx, key, async (d) => ((await d.hasItem(key, opts)) ? true : null)).then(Boolean),
    getItem: (key, opts) => _read(ctx, key, async (d) => d.getItem(key, opts)),
    getItemRaw: (key, opts) => _read(ctx, key, async (d) => d.getItemRaw!(key, opts)),
    getMeta: (key, opts) => _readMeta(ctx, key, opts),
    setItem: (key, value, opts) => _write(ctx, key, "text", async (local) => local.setItem!(key, value, opts), opts),
    setItemRaw: (key, value, opts) => _write(ctx, key, "raw", async (local) => local.setItemRaw!(key, value, opts), opts),
    removeItem: (key, opts) => _remove(ctx, key, opts),
    getKeys: (base, opts) => _readKeys(ctx, base, opts),
    clear: (base, opts) => _clear(ctx, base, opts),
    dispose() {
      return (disposed ??= _dispose(ctx));
    },
  };
  // createFileHandler(storage) reads the tiers and the state through these (src/serve/).
  _registerAccess([controls], { ctx, driver });
  return driver;
}

/**
 * An unstorage Storage that writes locally at once and transfers to the remote in the background, with the controls
 * (`transfer`, `transferNow`, `status`, `sync`, `drain`, `handle`, `fail`) on the same object.
 *
 * @example
 * const storage = createQueuedStorage({ local: fsDriver({ base: "./.data/local" }), remote: s3Driver({ bucket: "uploads", … }) });
 * await storage.setItemRaw("avatars:1.png", file.stream());
 * await storage.status("avatars:1.png"); // { state: "queued", … }
 */
export function createQueuedStorage(options: QueuedStorageOptions): QueuedStorage {
  const driver = queuedDriver(options);
  const storage = createStorage({ driver });
  // unstorage's clear(base) skips a root mount when the base is below it (unstorage #801): scope it ourselves.
  const clear: Storage["clear"] = async (base, opts) => {
    await driver.clear!(base ? _normalizeKey(base) : "", opts ?? {});
  };
  const queued = Object.assign(storage, driver.getInstance!(), { clear });
  _registerAccess([queued], _accessOf(driver.getInstance!())!);
  return queued;
}

// --- internal ---

async function _dispose(ctx: _Context): Promise<void> {
  // Background publishes first: the queue must still take them.
  await ctx.outbox.settled();
  ctx.disposed = true;
  await ctx.queue.dispose?.();
  await ctx.flags.dispose?.();
  if (!ctx.tiersResolved()) return;
  const { local, remote } = await ctx.tiers();
  await Promise.all([local.dispose?.(), remote.dispose?.()]);
}
