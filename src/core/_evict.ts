import type { Driver } from "unstorage";
import type { _Context } from "./context.ts";
import { _keepLease, type _Lease } from "./_lease.ts";

// transferAndDelete's local delete: after the remote holds the generation, under the key's lease and eviction mark,
// tracked in this process (ctx.evict) so that a write of the key waits for the delete call itself.

/** Delete the local copy of `generation`, holding `lease` (taken with `token`) until the delete has really ended. */
export async function _evict(ctx: _Context, key: string, token: string, generation: number, lease: _Lease, local: Driver): Promise<void> {
  const flagKey = ctx.flagKey(key);
  await ctx.evict(key, async () => {
    try {
      if (await _stillEvicting(ctx, flagKey, token, generation, lease)) await local.removeItem?.(key, {});
    } finally {
      lease.stop();
      await ctx.flags.evicted(flagKey, token);
    }
  });
}

/**
 * The key is `remote` for `generation`, settled by another transfer (a redelivery, or one that took over a lapsed
 * lease), and its local copy may still be there: delete it now, as that transfer's eviction would have, so a key
 * never converges to `remote` with a copy that transferAndDelete should have removed. Takes the eviction as the
 * settle of a transfer would (only when no other transfer or eviction holds the key).
 */
export async function _evictSettled(ctx: _Context, key: string, generation: number): Promise<void> {
  const { local } = await ctx.tiers();
  if (!(await local.hasItem(key, {}))) return;
  const flagKey = ctx.flagKey(key);
  const token = crypto.randomUUID();
  const takenAt = Date.now();
  const settled = await ctx.flags.settle(flagKey, generation, token, { evictMs: ctx.options.leaseMs });
  if (settled.status !== "remote" || settled.record.lease !== token) return;
  await _evict(ctx, key, token, generation, _keepLease(ctx, key, flagKey, token, takenAt), local);
}

/**
 * Whether the local delete may still run. While our lease is surely live (renewed in time), writers wait for it. When
 * it may have lapsed (this process stalled: event-loop lag, a pause), a writer may have begun and written new bytes:
 * one more renewal tells, atomically, whether the eviction is still ours and no newer generation began.
 */
async function _stillEvicting(ctx: _Context, flagKey: string, token: string, generation: number, lease: _Lease): Promise<boolean> {
  if (!lease.lost()) return true;
  const record = await ctx.flags.renew(flagKey, token, ctx.options.leaseMs).catch(() => null);
  return record?.generation === generation;
}
