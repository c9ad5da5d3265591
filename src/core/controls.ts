import type { _Context } from "./context.ts";
import { _assertKey } from "../_keys.ts";
import { _held, _toStatus } from "../flags/_transitions.ts";
import { _failJob, _runJob } from "./transfer.ts";
import type { Driver } from "unstorage";
import type { FlagRecord, TransferJob } from "../contracts.ts";
import type { QueuedStorageControls, SyncReport } from "../types.ts";
import { _validateJob } from "../_job.ts";
import { _urlOf } from "./url.ts";
import { _redoRemoval } from "./remove.ts";
import { _createOperations } from "./operations.ts";

/** The controls of a queued storage: queue, run, inspect and repair transfers. */
export function _createControls(ctx: _Context): QueuedStorageControls {
  const now = (): number => Date.now();
  const controls: Omit<QueuedStorageControls, "stats" | "list" | "retry"> = {
    async transfer(key) {
      _assertKey(key);
      const flagKey = ctx.flagKey(key);
      const { local } = await ctx.tiers();
      // In the key's lane: a write of the key that began before has stored its bytes, so the job runs on them.
      const [record, queue] = await ctx.lane(key, async (): Promise<[FlagRecord | null, boolean]> => {
        const current = await ctx.flags.get(flagKey);
        if (!current || current.state === "removed") return [null, false];
        // An upload or an eviction holds the key and finishes this generation itself (a queued job of it waits).
        if (_held(current, now())) return [current, current.state === "queued"];
        // A write (acknowledge: "stored") is still storing this generation's bytes, maybe in another instance: a job
        // now could upload the older local copy under the new generation. Its writer queues it once they landed.
        if (current.bytes === "storing" && now() - current.generation / 1000 < ctx.options.leaseMs) return [current, false];
        // Nothing is left to redo from once the remote holds this generation and its local copy was deleted.
        if (current.state === "remote" && !(await local.hasItem(key, {}))) return [current, false];
        const requeued = (await ctx.flags.requeue(flagKey, current.generation)) ?? (await ctx.flags.get(flagKey));
        return [requeued, requeued?.state === "queued"];
      });
      if (record && queue) await ctx.queue.enqueue({ key, generation: record.generation }, { redo: true });
      return _toStatus(record);
    },
    async transferNow(key) {
      _assertKey(key);
      // In the key's lane: the current generation's bytes have landed before its job runs inline.
      const record = await ctx.lane(key, () => ctx.flags.get(ctx.flagKey(key)));
      if (!record || record.state === "removed") return "stale";
      const job = { key, generation: record.generation };
      try {
        return await _runJob(ctx, job);
      } catch (error) {
        // Inline there is no queue to retry: a permanent failure marks the key failed right away.
        if ((error as { retryable?: boolean }).retryable === false) await _failJob(ctx, job, error);
        throw error;
      }
    },
    async status(key) {
      _assertKey(key);
      return _toStatus(await ctx.flags.get(ctx.flagKey(key)));
    },
    async sync(options): Promise<SyncReport> {
      const report: SyncReport = { queued: 0, removed: 0, waiting: 0, dropped: 0 };
      const jobs: TransferJob[] = [];
      // Jobs of writes acknowledged once stored whose publish may or may not have happened: sent with the job's own
      // deduplication id, so a queue that still holds the writer's publish (QStash) delivers it once.
      const owed: TransferJob[] = [];
      const prefix = ctx.options.prefix ? `${ctx.options.prefix}:` : "";
      const { local, remote } = await ctx.tiers();
      for (const [flagKey, record] of await ctx.flags.pending()) {
        if (!flagKey.startsWith(prefix)) continue;
        const key = flagKey.slice(prefix.length);
        if (record.state === "removed") {
          // A removal that did not finish (crash): redo it, unless a transfer still holds the key or evicts its copy,
          // or the key was written again since the listing (checked in the key's lane).
          if (!_held(record, now()) && (await _redoRemoval(ctx, key, record, [local, remote]))) report.removed++;
          continue;
        }
        // In the key's lane, so a write of this process that is storing its bytes has finished first.
        const outcome = await ctx.lane(key, () => _syncOne(ctx, key, record, local, remote));
        if (outcome === "dropped") report.dropped++;
        else if (outcome === "waiting") report.waiting++;
        else if (outcome && record.bytes === "stored" && record.attempts === 0 && record.error === undefined) owed.push(outcome);
        else if (outcome) jobs.push(outcome);
      }
      if (options?.verify) {
        const mismatched = await _verifyRemote(ctx, remote);
        report.mismatched = mismatched.length;
        jobs.push(...mismatched);
      }
      await _enqueueAll(ctx, owed, false);
      await _enqueueAll(ctx, jobs, true);
      report.queued = jobs.length + owed.length;
      return report;
    },
    async drain() {
      await ctx.outbox.settled();
      await ctx.queue.drain?.();
    },
    async handle(job) {
      return _runJob(ctx, _validateJob(job));
    },
    async fail(job, reason) {
      await _failJob(ctx, _validateJob(job), reason);
    },
    async url(key, options) {
      _assertKey(key);
      return _urlOf(ctx, key, await ctx.flags.get(ctx.flagKey(key)), options);
    },
  };
  // stats, list, retry (issue 21)
  return Object.assign(controls, _createOperations(ctx, { transfer: controls.transfer, status: controls.status }));
}

async function _enqueueAll(ctx: _Context, jobs: TransferJob[], redo: boolean): Promise<void> {
  if (jobs.length === 0) return;
  if (ctx.queue.enqueueMany) await ctx.queue.enqueueMany(jobs, { redo });
  else for (const job of jobs) await ctx.queue.enqueue(job, { redo });
}

/** What `sync()` does with one record that is not a tombstone: a job to queue, a ghost dropped, a write waited for. */
async function _syncOne(
  ctx: _Context,
  key: string,
  record: FlagRecord,
  local: Driver,
  remote: Driver,
): Promise<TransferJob | "dropped" | "waiting" | undefined> {
  const flagKey = ctx.flagKey(key);
  const delayedLocal = record.state === "local" && ctx.options.delayed;
  const bytes = await _whereBytes(ctx, key, record, local, remote);
  if (bytes === "ghost") {
    // Intent without bytes, left by a crash between intent and local write: the key was never stored.
    return (await ctx.flags.rollback(flagKey, record.generation, null)) ? "dropped" : undefined;
  }
  // Its write may still be storing the bytes (its own enqueue follows): a later sync() looks again.
  if (bytes === "writing") return delayedLocal ? "waiting" : undefined;
  // This process is still publishing its job (acknowledge: "stored").
  if (ctx.outbox.sending(key, record.generation)) return undefined;
  if (delayedLocal) return "waiting";
  // Only this generation, and never while a transfer or an eviction holds the key (the store leaves it as it is).
  const current = record.state === "failed" || record.state === "local" ? await ctx.flags.requeue(flagKey, record.generation) : record;
  if (!current || (current !== record && current.state !== "queued")) return undefined;
  return { key, generation: current.generation };
}

/**
 * Where the bytes of a record that no transfer holds are. `"ghost"`: no local copy, nothing on the remote, and its
 * write began more than a lease ago (no write still running), so its intent was recorded but its bytes never stored.
 * `"writing"`: its write began less than a lease ago and no transfer has tried it yet, so it may still be storing its
 * bytes (over an older copy, too) and will queue itself; a later `sync()` takes it up. Costs a local lookup per older
 * record (and a remote one when the local copy is missing), only in `sync()`.
 */
async function _whereBytes(
  ctx: _Context,
  key: string,
  record: FlagRecord,
  local: Driver,
  remote: Driver,
): Promise<"ghost" | "writing" | "stored"> {
  const now = Date.now();
  if (_held(record, now) || record.state === "transferring") return "stored";
  // A write acknowledged once stored marked its bytes landed: its job is owed now, whether or not it was published.
  if (record.bytes === "stored") return "stored";
  // A write that began less than a lease ago may still be storing its bytes, over an older local copy too, and queues
  // its own job when done: queuing it here could upload the older bytes under the new generation.
  const young = now - record.generation / 1000 < ctx.options.leaseMs;
  if (young && record.bytes === "storing") return "writing";
  if (young && record.attempts === 0 && record.error === undefined) return "writing";
  if (await local.hasItem(key, {})) return "stored";
  if (young) return "stored";
  return (await remote.hasItem(key, {})) ? "stored" : "ghost";
}

/**
 * `sync({ verify: true })`: keys recorded `remote` whose remote object is not the recorded generation (a stale
 * commit that got through, an object replaced behind our back). Only where the remote can say which generation it
 * holds (drivers with `flags.conditionalWrites`, whose objects carry `x-amz-meta-generation`): one listing, then a
 * state read and a HeadObject per key. Each mismatch is queued again: its transfer re-uploads the local copy, or,
 * when none is left, fails naming both generations.
 */
async function _verifyRemote(ctx: _Context, remote: Driver): Promise<TransferJob[]> {
  if ((remote.flags as { conditionalWrites?: boolean } | undefined)?.conditionalWrites !== true) return [];
  const jobs: TransferJob[] = [];
  for (const key of await remote.getKeys("", {})) {
    const flagKey = ctx.flagKey(key);
    const record = await ctx.flags.get(flagKey);
    if (record?.state !== "remote" || (record.evictUntil ?? 0) > Date.now()) continue;
    const held = (await remote.getMeta?.(key, {}))?.generation;
    if (held !== undefined && Number(held) === record.generation) continue;
    const requeued = await ctx.flags.requeue(flagKey, record.generation);
    if (requeued?.state === "queued") jobs.push({ key, generation: requeued.generation });
  }
  return jobs;
}
