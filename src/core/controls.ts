import type { _Context } from "./context.ts";
import { _assertKey } from "../_keys.ts";
import { _held, _toStatus } from "../flags/_transitions.ts";
import { _failJob, _runJob } from "./transfer.ts";
import type { QueuedStorageControls, SyncReport, TransferJob } from "../types.ts";
import { _validateJob } from "../_job.ts";
import { _urlOf } from "../serve/url.ts";

/** The controls of a queued storage: queue, run, inspect and repair transfers. */
export function _createControls(ctx: _Context): QueuedStorageControls {
  const now = (): number => Date.now();
  return {
    async transfer(key) {
      _assertKey(key);
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
    async sync(): Promise<SyncReport> {
      const report: SyncReport = { queued: 0, removed: 0, waiting: 0 };
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
        } else if (record.state === "local" && ctx.options.delayed) {
          report.waiting++;
        } else {
          const current = record.state === "failed" || record.state === "local" ? await ctx.flags.requeue(flagKey) : record;
          if (current) jobs.push({ key, generation: current.generation });
        }
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
}
