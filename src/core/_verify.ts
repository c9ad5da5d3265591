import type { Driver } from "unstorage";
import type { TransferJob } from "../contracts.ts";
import type { _Context } from "./context.ts";

/**
 * `sync({ verify: true })`: keys recorded `remote` whose remote object is not the recorded generation (a stale
 * commit that got through, an object replaced behind our back). Only where the remote can say which generation it
 * holds (drivers with `flags.conditionalWrites`, whose objects carry `x-amz-meta-generation`): one listing, then a
 * state read and a HeadObject per key. Each mismatch is queued again: its transfer re-uploads the local copy, or,
 * when none is left, fails naming both generations.
 */
export async function _verifyRemote(ctx: _Context, remote: Driver): Promise<TransferJob[]> {
  if ((remote.flags as { conditionalWrites?: boolean } | undefined)?.conditionalWrites !== true) return [];
  const jobs: TransferJob[] = [];
  for (const key of await remote.getKeys("", {})) {
    const flagKey = ctx.flagKey(key);
    const record = await ctx.flags.get(flagKey);
    if (record?.state !== "remote" || (record.evictUntil ?? 0) > Date.now()) continue;
    const held = (await remote.getMeta?.(key, {}))?.generation;
    if (held !== undefined && Number(held) === record.generation) continue;
    const requeued = await ctx.flags.requeue(flagKey);
    if (requeued?.generation === record.generation) jobs.push({ key, generation: requeued.generation });
  }
  return jobs;
}
