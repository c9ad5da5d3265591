import type { _Context } from "./context.ts";
import { _assertKey } from "../_keys.ts";
import { _held, _toStatus } from "../flags/_transitions.ts";
import { _failJob, _runJob } from "./transfer.ts";
import type { Driver, FlagRecord, QueuedStorageControls, SyncReport, TransferJob } from "../types.ts";
import { _validateJob } from "../_job.ts";
import { _verifyRemote } from "./_verify.ts";
import { _urlOf } from "../serve/url.ts";
import { _createOperations } from "./operations.ts";

/** The controls of a queued storage: queue, run, inspect and repair transfers. */
export function _createControls(ctx: _Context): QueuedStorageControls {
  const now = (): number => Date.now();
  const controls: Omit<QueuedStorageControls, "stats" | "list" | "retry"> = {
    async transfer(key) {
      _assertKey(key);
      const current = await ctx.flags.get(ctx.flagKey(key));
      if (!current || current.state === "removed") return null;
      // Nothing to redo from: the remote holds this generation and its local copy was deleted after the transfer.
      if (current.state === "remote" && !(await (await ctx.tiers()).local.hasItem(key, {}))) return _toStatus(current);
      const record = await ctx.flags.requeue(ctx.flagKey(key));
      if (!record) return null;
      await ctx.queue.enqueue({ key, generation: record.generation });
      return _toStatus(record);
    },
    async transferNow(key) {
      _assertKey(key);
      const record = await ctx.flags.get(ctx.flagKey(key));
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
      const prefix = ctx.options.prefix ? `${ctx.options.prefix}:` : "";
      const { local, remote } = await ctx.tiers();
      for (const [flagKey, record] of await ctx.flags.pending()) {
        if (!flagKey.startsWith(prefix)) continue;
        const key = flagKey.slice(prefix.length);
        if (record.state === "removed") {
          // A removal that did not finish (crash): redo it, unless a transfer still holds the key or evicts its copy.
          if (_held(record, now())) continue;
          await Promise.all([local.removeItem?.(key, {}), remote.removeItem?.(key, {})]);
          if (await ctx.flags.forget(flagKey, record.generation)) report.removed++;
          continue;
        }
        const bytes = await _whereBytes(ctx, key, record, local, remote);
        if (bytes === "ghost") {
          // Intent without bytes, left by a crash between intent and local write: the key was never stored.
          if (await ctx.flags.rollback(flagKey, record.generation, null)) report.dropped++;
        } else if (bytes === "writing") {
          // Its write may still be storing the bytes (its own enqueue follows): a later sync() looks again.
          if (record.state === "local" && ctx.options.delayed) report.waiting++;
        } else if (record.state === "local" && ctx.options.delayed) {
          report.waiting++;
        } else {
          const current = record.state === "failed" || record.state === "local" ? await ctx.flags.requeue(flagKey) : record;
          if (current) jobs.push({ key, generation: current.generation });
        }
      }
      if (options?.verify) {
        const mismatched = await _verifyRemote(ctx, remote);
        report.mismatched = mismatched.length;
        jobs.push(...mismatched);
      }
      if (jobs.length > 0) {
        if (ctx.queue.enqueueMany) await ctx.queue.enqueueMany(jobs);
        else for (const job of jobs) await ctx.queue.enqueue(job);
      }
      report.queued = jobs.length;
      return report;
    },
    async drain() {
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
  // A write that began less than a lease ago may still be storing its bytes, over an older local copy too, and queues
  // its own job when done: queuing it here could upload the older bytes under the new generation.
  const young = now - record.generation / 1000 < ctx.options.leaseMs;
  if (young && record.attempts === 0 && record.error === undefined) return "writing";
  if (await local.hasItem(key, {})) return "stored";
  if (young) return "stored";
  return (await remote.hasItem(key, {})) ? "stored" : "ghost";
}
