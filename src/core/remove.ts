import type { Driver } from "unstorage";
import { _assertKey, _normalizeKey } from "../_keys.ts";
import { _held } from "../flags/_transitions.ts";
import type { _Context } from "./context.ts";
import { _pollWhile } from "./_lease.ts";
import type { FlagRecord } from "../contracts.ts";

/**
 * The remove path: a tombstone (a new generation), both tiers' copies deleted, the tombstone dropped once free. The
 * tombstone and the deletes run in the key's lane: a write that begins meanwhile waits for them, so no delete of
 * this removal ever lands on a newer generation's bytes.
 */
export async function _remove(ctx: _Context, key: string, opts: object): Promise<void> {
  _assertKey(key);
  const { local, remote } = await ctx.tiers();
  const tombstone = await ctx.lane(key, async () => {
    const record = await ctx.flags.remove(ctx.flagKey(key));
    await Promise.all([local.removeItem?.(key, opts), remote.removeItem?.(key, opts)]);
    return record;
  });
  await _finishRemoval(ctx, remote, key, tombstone);
}

/**
 * `sync()`'s redo of a removal that did not finish (a crash): the copies on `tiers` deleted and the tombstone dropped,
 * in the key's lane and only while the tombstone is still the key's record and nothing holds it. `true` when done.
 */
export function _redoRemoval(ctx: _Context, key: string, tombstone: FlagRecord, tiers: Driver[]): Promise<boolean> {
  return ctx.lane(key, async () => {
    const record = await ctx.flags.get(ctx.flagKey(key));
    if (!record || record.state !== "removed" || record.generation !== tombstone.generation) return false;
    if (_held(record, Date.now())) return false;
    await Promise.all(tiers.map((tier) => tier.removeItem?.(key, {})));
    return ctx.flags.forget(ctx.flagKey(key), tombstone.generation);
  });
}

/** `clear(base)`: every record below `base` dropped (tombstoned while a transfer holds it), then both tiers cleared. */
export async function _clear(ctx: _Context, base: string, opts: object): Promise<void> {
  const { local, remote } = await ctx.tiers();
  const prefix = base ? _normalizeKey(base) : "";
  const flagBase = [ctx.options.prefix, prefix].filter(Boolean).join(":");
  ctx.readCache?.forgetAll();
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
}

/**
 * A transfer found its key removed when it settled: its upload may have put the object back after the removal's
 * delete. Delete it again, in the key's lane and only while the key is still removed (or forgotten): a write that
 * begins meanwhile waits, so this delete never lands on a newer generation's upload. Then drop the tombstone.
 */
export function _dropStaleUpload(ctx: _Context, key: string, remote: Driver): Promise<void> {
  return ctx.lane(key, async () => {
    const record = await ctx.flags.get(ctx.flagKey(key));
    if (record && record.state !== "removed") return; // written again: that generation's transfer replaces the object
    await remote.removeItem?.(key, {});
    if (record) await ctx.flags.forget(ctx.flagKey(key), record.generation);
  });
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
  if (record === tombstone) return void (await ctx.flags.forget(ctx.flagKey(key), tombstone.generation));
  // A transfer held the key: its upload may have put the object back. Deleted in the lane, and only while the
  // tombstone is still the key's record, so a newer write's bytes are never taken.
  await _redoRemoval(ctx, key, tombstone, [remote]);
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
