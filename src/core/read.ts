import type { Driver, StorageMeta } from "unstorage";
import { _assertKey, _keyDepth, _normalizeKey } from "../_keys.ts";
import type { _Context } from "./context.ts";

/**
 * The read path: local first unless the key is `remote`; each tier falls back to the other, so a read never misses a
 * value that an in-flight transferAndDelete just moved. A local copy is never older than the remote one (it is
 * written first). One state-store round trip per read.
 */
export async function _read<T>(ctx: _Context, key: string, op: (driver: Driver) => Promise<T | null | undefined>): Promise<T | null> {
  _assertKey(key);
  const [record, { local, remote }] = await Promise.all([ctx.flags.get(ctx.flagKey(key)), ctx.tiers()]);
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

/** The meta of the tier that holds the current generation, with `tier`, `state` and `generation` added. */
export async function _readMeta(ctx: _Context, key: string, opts: object): Promise<StorageMeta | null> {
  _assertKey(key);
  const record = await ctx.flags.get(ctx.flagKey(key));
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
