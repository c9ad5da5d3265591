import type { Driver, StorageMeta } from "unstorage";
import type { _Context } from "../core/context.ts";
import type { FlagRecord } from "../types.ts";

/** Where the current generation of a key is, and what that tier says about it. */
export interface _Located {
  tier: "local" | "remote";
  driver: Driver;
  record: FlagRecord | null;
  meta: StorageMeta;
}

/**
 * The tier holding the key's current generation, as reads route it: the remote once the key is `remote`, else the
 * local copy; each falls back to the other (a transferAndDelete may just have moved it). One state read, then one
 * metadata read per tier tried. `null` when neither holds the key, or it is being removed.
 */
export async function _locate(ctx: _Context, key: string, record?: FlagRecord | null): Promise<_Located | null> {
  const [current, tiers] = await Promise.all([record === undefined ? ctx.flags.get(ctx.flagKey(key)) : record, ctx.tiers()]);
  if (current?.state === "removed") return null;
  const order: Array<["local" | "remote", Driver]> = current?.state === "remote"
    ? [["remote", tiers.remote], ["local", tiers.local]]
    : [["local", tiers.local], ["remote", tiers.remote]];
  for (const [tier, driver] of order) {
    let meta: StorageMeta | null;
    try {
      meta = await _metaOf(driver, key);
    } catch (error) {
      if (tier === "local") throw error;
      continue; // the remote is unreachable: a kept local copy holds the same bytes
    }
    if (meta) return { tier, driver, record: current, meta };
  }
  return null;
}

// --- internal ---

/** Our drivers answer `getMeta` with `null` for a missing key; for others, existence is asked first. */
async function _metaOf(driver: Driver, key: string): Promise<StorageMeta | null> {
  const own = driver.name?.startsWith("queued-storage:") === true;
  if (own && driver.getMeta) return (await driver.getMeta(key, {})) ?? null;
  if (!(await driver.hasItem(key, {}))) return null;
  return (await driver.getMeta?.(key, {})) ?? {};
}
