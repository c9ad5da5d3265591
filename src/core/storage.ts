import { createStorage, type Driver, type Storage } from "unstorage";
import { _createContext, type _Context } from "./context.ts";
import { _createControls } from "./controls.ts";
import { _error, _messageOf } from "../_errors.ts";
import { _assertKey, _keyDepth, _normalizeKey } from "../_keys.ts";
import { _assertDriverOption } from "./_resolve.ts";
import { _held } from "../flags/_transitions.ts";
import { _pollWhile } from "./_poll.ts";
import { _accessOf, _registerAccess } from "./_access.ts";
import type { FlagRecord, TransferConsumer, ValueKind } from "../contracts.ts";
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

  const readRecord = (key: string): Promise<FlagRecord | null> => ctx.flags.get(ctx.flagKey(key));
  // Local first unless the key is `remote`; each tier falls back to the other, so a read never misses a value that
  // an in-flight transferAndDelete just moved. A local copy is never older than the remote one (it is written first).
  async function read<T>(key: string, op: (driver: Driver) => Promise<T | null | undefined>): Promise<T | null> {
    _assertKey(key);
    const [record, { local, remote }] = await Promise.all([readRecord(key), ctx.tiers()]);
    if (record?.state === "removed") return null;
    const [first, second] = record?.state === "remote" ? [remote, local] : [local, remote];
    let value: T | null | undefined;
    try {
      value = await op(first);
    } catch (error) {
      if (first === local) throw error;
      value = null; // the remote is unreachable: the local copy of a `remote` key holds the same bytes, if kept
    }
    return value ?? (await op(second)) ?? null;
  }

  async function write(key: string, kind: ValueKind, put: (local: Driver) => Promise<unknown>): Promise<void> {
    _assertKey(key);
    const { local } = await ctx.tiers();
    let begun: Awaited<ReturnType<typeof ctx.flags.begin>>;
    try {
      begun = await ctx.flags.begin(ctx.flagKey(key), { delayed: ctx.options.delayed, kind });
    } catch (cause) {
      throw _error(`cannot write "${key}": recording its transfer intent failed: ${_messageOf(cause)}`, { key, cause });
    }
    // A transferAndDelete is removing the previous local copy: let it finish so it cannot take our bytes with it. Its
    // mark is renewed by the delete's lease until the delete really ended (evicted), so this waits for that, not a timer.
    const evicting = (record: FlagRecord): boolean => (record.evictUntil ?? 0) > Date.now();
    if (evicting(begun.record)) await _pollWhile(ctx, key, begun.record, evicting);
    try {
      await put(local);
    } catch (cause) {
      // The key stays as it was: the intent is rolled back (compare-and-set on our generation), so no ghost is left
      // to be listed, re-queued or reported failed.
      const note = await ctx.flags.rollback(ctx.flagKey(key), begun.record.generation, begun.previous).then(
        () => "",
        (error: unknown) => `; rolling back its transfer intent failed too (${_messageOf(error)}), sync() will drop it`,
      );
      throw _error(`cannot write "${key}" to the local driver: ${_messageOf(cause)}${note}`, { key, cause });
    }
    if (ctx.options.delayed) return;
    try {
      await ctx.queue.enqueue({ key, generation: begun.record.generation });
    } catch (cause) {
      // Recorded on the key, so that sync() knows at once that no job is coming (see `_whereBytes`).
      await ctx.flags
        .release(ctx.flagKey(key), begun.record.generation, "", { error: `queuing its transfer failed: ${_messageOf(cause)}` })
        .catch(() => {});
      throw _error(
        `"${key}" is stored locally but queuing its transfer failed: ${_messageOf(cause)}; sync() will queue it again`,
        { key, cause },
      );
    }
  }

  let disposed: Promise<void> | undefined;
  const hasDepthFlag = { maxDepth: true, streams: true };

  const driver: Driver<QueuedStorageOptions, QueuedStorageControls> = {
    name: DRIVER_NAME,
    options,
    flags: hasDepthFlag,
    getInstance: () => controls,
    hasItem: (key, opts) => read(key, async (d) => ((await d.hasItem(key, opts)) ? true : null)).then(Boolean),
    getItem: (key, opts) => read(key, async (d) => d.getItem(key, opts)),
    getItemRaw: (key, opts) => read(key, async (d) => d.getItemRaw!(key, opts)),
    async getMeta(key, opts) {
      _assertKey(key);
      const record = await readRecord(key);
      if (record?.state === "removed") return null;
      const { local, remote } = await ctx.tiers();
      const order: Array<[Driver, "local" | "remote"]> =
        record?.state === "remote" ? [[remote, "remote"], [local, "local"]] : [[local, "local"], [remote, "remote"]];
      for (const [driver, tier] of order) {
        if (!(await driver.hasItem(key, {}))) continue;
        const meta = (await driver.getMeta?.(key, opts)) ?? {};
        return { ...meta, tier, state: record?.state ?? tier, generation: record?.generation };
      }
      return null;
    },
    setItem: (key, value, opts) => write(key, "text", async (local) => local.setItem!(key, value, opts)),
    setItemRaw: (key, value, opts) => write(key, "raw", async (local) => local.setItemRaw!(key, value, opts)),
    async removeItem(key, opts) {
      _assertKey(key);
      const { local, remote } = await ctx.tiers();
      const tombstone = await ctx.flags.remove(ctx.flagKey(key));
      await Promise.all([local.removeItem?.(key, opts), remote.removeItem?.(key, opts)]);
      await _finishRemoval(ctx, remote, key, tombstone);
    },
    async getKeys(base, opts) {
      const { local, remote } = await ctx.tiers();
      const prefix = base ? _normalizeKey(base) : "";
      // Local first, then the remote: a key only moves local → remote (uploaded, then the local copy deleted), so a
      // key missing from the local listing was already on the remote when its listing began. Listing both at once
      // could miss a key that moved in between.
      const lists = [await local.getKeys(prefix, opts), await remote.getKeys(prefix, opts)];
      const keys = new Set<string>();
      for (const key of lists.flat()) {
        const normalized = _normalizeKey(key);
        if (prefix && normalized !== prefix && !normalized.startsWith(`${prefix}:`)) continue;
        if (opts?.maxDepth !== undefined && _keyDepth(normalized) > opts.maxDepth) continue;
        keys.add(normalized);
      }
      return [...keys];
    },
    async clear(base, opts) {
      const { local, remote } = await ctx.tiers();
      const prefix = base ? _normalizeKey(base) : "";
      const flagBase = [ctx.options.prefix, prefix].filter(Boolean).join(":");
      await ctx.flags.clear(flagBase || undefined);
      // Keys a transfer held were tombstoned instead (no new transfer of a cleared key starts): wait for those
      // transfers before clearing the tiers, so none writes into or deletes from a tree being cleared (unstorage's fs
      // clear() fails then) and nothing cleared is uploaded again afterwards.
      const held = (await ctx.flags.pending()).filter(
        ([flagKey, record]) => record.state === "removed" && (!flagBase || flagKey.startsWith(`${flagBase}:`)),
      );
      const keyOf = (flagKey: string): string => (ctx.options.prefix ? flagKey.slice(ctx.options.prefix.length + 1) : flagKey);
      const ours = (tombstone: FlagRecord) => (record: FlagRecord): boolean =>
        record.generation === tombstone.generation && _held(record, Date.now());
      await Promise.all(held.map(([flagKey, record]) => _pollWhile(ctx, keyOf(flagKey), record, ours(record))));
      await Promise.all([_clearTier(local, prefix, opts), _clearTier(remote, prefix, opts)]);
      await Promise.all(held.map(([flagKey, record]) => _finishRemoval(ctx, remote, keyOf(flagKey), record)));
    },
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

/**
 * Drop the tombstone once no transfer holds the key. A transfer that was uploading when the key was removed
 * could put the object back on the remote: wait for it to let go (it cleans up after itself), then make sure.
 */
async function _finishRemoval(ctx: _Context, remote: Driver, key: string, tombstone: FlagRecord): Promise<void> {
  // Also wait for a transferAndDelete that is still deleting the local copy: once the tombstone is gone, a new
  // write could land there first and be deleted by it. A newer generation means the key was written again
  // meanwhile: not ours to finish.
  const ours = (record: FlagRecord): boolean => record.generation === tombstone.generation;
  const record = await _pollWhile(ctx, key, tombstone, (r) => ours(r) && _held(r, Date.now()));
  if (record && !ours(record)) return;
  if (record !== tombstone) await remote.removeItem?.(key, {});
  await ctx.flags.forget(ctx.flagKey(key), tombstone.generation);
}

async function _clearTier(driver: Driver, base: string, opts: unknown): Promise<void> {
  // A transfer that found its key cleared removes its upload after letting go of the key, so it can still unlink a
  // file while a driver walks its tree (unstorage's fs clear() then fails with ENOENT or ENOTEMPTY): clearing again
  // finishes the job, as the walk is idempotent.
  for (let attempt = 1; ; attempt++) {
    try {
      return await _clearTierOnce(driver, base, opts);
    } catch (error) {
      if (attempt === 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
    }
  }
}

async function _clearTierOnce(driver: Driver, base: string, opts: unknown): Promise<void> {
  // Several unstorage drivers (memory, fs) ignore the base of clear() and wipe everything (unstorage #802):
  // below a base, only our own drivers are trusted to scope it.
  const scoped = !base || driver.name?.startsWith("queued-storage");
  if (driver.clear && scoped) return void (await driver.clear(base, opts as object));
  const keys = (await driver.getKeys(base, {})).map(_normalizeKey);
  const inBase = keys.filter((key) => !base || key === base || key.startsWith(`${base}:`));
  await Promise.all(inBase.map((key) => driver.removeItem?.(key, {})));
}

async function _dispose(ctx: _Context): Promise<void> {
  ctx.disposed = true;
  await ctx.queue.dispose?.();
  await ctx.flags.dispose?.();
  if (!ctx.tiersResolved()) return;
  const { local, remote } = await ctx.tiers();
  await Promise.all([local.dispose?.(), remote.dispose?.()]);
}
