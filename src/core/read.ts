import type { Driver, StorageMeta } from "unstorage";
import { _assertKey, _keyDepth, _normalizeKey } from "../_keys.ts";
import type { _Context } from "./context.ts";
import type { FlagRecord } from "../contracts.ts";

/**
 * The read path: local first unless the key is `remote`; each tier falls back to the other, so a read never misses a
 * value that an in-flight transferAndDelete just moved. A local copy is never older than the remote one (it is
 * written first). One state-store round trip per read.
 */
export async function _read<T>(ctx: _Context, key: string, op: (driver: Driver) => Promise<T | null | undefined>): Promise<T | null> {
  _assertKey(key);
  const flagKey = ctx.flagKey(key);
  const cached = ctx.readCache?.get(flagKey);
  const epoch = ctx.readCache?.epoch() ?? 0;
  const [initial, { local, remote }] = await Promise.all([cached ?? ctx.flags.get(flagKey), ctx.tiers()]);
  if (!cached) ctx.readCache?.remember(flagKey, initial, epoch);
  let record = initial;
  for (let attempt = 1; ; attempt++) {
    if (record?.state === "removed") return null;
    if (record?.state === "remote") {
      let value: T | null | undefined;
      try {
        value = await op(remote);
      } catch {
        value = null; // the remote is unreachable: the local copy of a `remote` key holds the same bytes, if kept
      }
      return value ?? (await op(local)) ?? null;
    }
    const value = await op(local);
    if (value !== null && value !== undefined) return value;
    // No local copy. Right while a transferAndDelete moves the key (the record then changed: read it again), or while
    // a write of a new generation stores its bytes over an evicted one (the remote holds the previous generation).
    // A removal may also have taken the copy after we read the record: only an unchanged record vouches for the remote.
    const now = await ctx.flags.get(flagKey);
    if (!_sameRecord(now, record) && attempt < 5) {
      record = now;
      continue;
    }
    if (record?.replaced === 0) return null; // no earlier value anywhere: a new key, or one written after a removal
    const previous = await op(remote);
    if (previous === null || previous === undefined) return null;
    if (_sameRecord(await ctx.flags.get(flagKey), record) || attempt >= 5) return previous;
    record = await ctx.flags.get(flagKey);
  }
}

function _sameRecord(a: FlagRecord | null, b: FlagRecord | null): boolean {
  return a?.generation === b?.generation && a?.state === b?.state;
}

/**
 * The tiers to read, in order: none for a removed key; the remote first once it holds the current generation; else
 * the local copy, then the remote, which holds the previous generation while a transferAndDelete moves it. A write
 * that began after a removal (or on a new key) has no previous value: only its local copy is read.
 */
function _tiersOf(record: FlagRecord | null, local: Driver, remote: Driver): Driver[] {
  if (record?.state === "removed") return [];
  if (record?.state === "remote") return [remote, local];
  return record?.replaced === 0 ? [local] : [local, remote];
}

/** The meta of the tier that holds the current generation, with `tier`, `state` and `generation` added. */
export async function _readMeta(ctx: _Context, key: string, opts: object): Promise<StorageMeta | null> {
  _assertKey(key);
  const record = await ctx.flags.get(ctx.flagKey(key));
  const { local, remote } = await ctx.tiers();
  for (const driver of _tiersOf(record, local, remote)) {
    const tier = driver === local ? "local" : "remote";
    if (!(await driver.hasItem(key, {}))) continue;
    const meta = (await driver.getMeta?.(key, opts)) ?? {};
    return { ...meta, tier, state: record?.state ?? tier, generation: record?.generation };
  }
  return null;
}

/** The keys of both tiers below `base`, without duplicates. */
export async function _readKeys(ctx: _Context, base: string, opts: { maxDepth?: number }): Promise<string[]> {
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
}
