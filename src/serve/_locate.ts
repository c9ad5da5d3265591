import type { Driver, StorageMeta } from "unstorage";
import type { _Context } from "../core/context.ts";
import { knownLength, knownMtime } from "../_streams.ts";
import type { FlagRecord } from "../contracts.ts";

/** Where the current generation of a key is, and what that tier says about it. */
export interface _Located {
  tier: "local" | "remote";
  driver: Driver;
  record: FlagRecord | null;
  meta: StorageMeta;
  /** The whole value, already open, when the tier was asked to open rather than stat (`open`). */
  stream?: ReadableStream<Uint8Array>;
}

/**
 * The tier holding the key's current generation, as reads route it: the remote once the key is `remote`, else the
 * local copy; each falls back to the other (a transferAndDelete may just have moved it). One state read, then one
 * metadata read per tier tried. `null` when neither holds the key, or it is being removed. With `open`, a tier whose
 * streams carry their size and mtime (our fs driver) is opened instead of asked: the whole value comes back open,
 * at the cost of one stat fewer (the caller will read it anyway: a plain GET).
 */
export async function _locate(ctx: _Context, key: string, record?: FlagRecord | null, open = false): Promise<_Located | null> {
  const [current, tiers] = await Promise.all([record === undefined ? ctx.flags.get(ctx.flagKey(key)) : record, ctx.tiers()]);
  if (current?.state === "removed") return null;
  const order: Array<["local" | "remote", Driver]> = current?.state === "remote"
    ? [["remote", tiers.remote], ["local", tiers.local]]
    : [["local", tiers.local], ["remote", tiers.remote]];
  for (const [tier, driver] of order) {
    let meta: StorageMeta | null;
    try {
      if (open && (driver.flags as { streamMeta?: boolean } | undefined)?.streamMeta) {
        const opened = await _openWithMeta(driver, key);
        if (opened) return { tier, driver, record: current, ...opened };
        if (opened === null) continue;
      }
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

/** The value as a stream with the size and mtime it carries; `null` when missing, `undefined` when it carries none. */
async function _openWithMeta(driver: Driver, key: string): Promise<Pick<_Located, "meta" | "stream"> | null | undefined> {
  const stream = (await driver.getItemRaw!(key, { type: "stream" })) as ReadableStream<Uint8Array> | null;
  if (!stream) return null;
  const size = knownLength(stream);
  const mtime = knownMtime(stream);
  if (size !== undefined && mtime) return { meta: { size, mtime }, stream };
  await stream.cancel().catch(() => {});
  return undefined;
}
