import type { _Context } from "../core/context.ts";
import type { TransferStats } from "../contracts.ts";

/** Upper bounds (seconds) of the transfer duration histogram's buckets. */
const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];
/** Durations of finished task runs waiting for their `onTransferred`; a settle that turned stale never consumes one. */
const MAX_WAITING = 1000;

/** What this process saw of its storage's transfers since the status handler was created. */
export interface _Metrics {
  transferred: number;
  failed: number;
  /** Per bucket of {@link BUCKETS}, not cumulative; the last entry counts durations above every bound. */
  buckets: number[];
  sum: number;
}

const _metrics = new WeakMap<_Context, _Metrics>();

/**
 * Observe a storage's transfers: the task's run is timed (claim to upload done), and `onTransferred` / `onFailed`
 * count outcomes and close each timing. The options' own handlers still run, unchanged, after ours. Idempotent.
 */
export function _instrument(ctx: _Context): _Metrics {
  const existing = _metrics.get(ctx);
  if (existing) return existing;
  const metrics: _Metrics = { transferred: 0, failed: 0, buckets: BUCKETS.map(() => 0).concat(0), sum: 0 };
  _metrics.set(ctx, metrics);
  const waiting = new Map<string, number>();
  const id = (key: string, generation: number): string => `${generation}\u0000${key}`;

  const task = ctx.task;
  ctx.task = {
    name: task.name,
    deleteLocal: task.deleteLocal,
    async run(context) {
      const started = performance.now();
      const done = await task.run(context);
      if (done === true) {
        if (waiting.size >= MAX_WAITING) waiting.delete(waiting.keys().next().value!);
        waiting.set(id(context.key, context.generation), performance.now() - started);
      }
      return done;
    },
  };
  const { onTransferred, onFailed } = ctx.options;
  ctx.options.onTransferred = (event) => {
    metrics.transferred++;
    const ms = waiting.get(id(event.key, event.generation));
    if (ms !== undefined) {
      waiting.delete(id(event.key, event.generation));
      const seconds = ms / 1000;
      const bucket = BUCKETS.findIndex((bound) => seconds <= bound);
      metrics.buckets[bucket === -1 ? BUCKETS.length : bucket]!++;
      metrics.sum += seconds;
    }
    return onTransferred?.(event);
  };
  ctx.options.onFailed = (event) => {
    metrics.failed++;
    return onFailed?.(event);
  };
  return metrics;
}

/** The Prometheus text exposition (format 0.0.4) of the counts and this process's transfers. */
export function _prometheus(stats: TransferStats, metrics: _Metrics, now: number): string {
  const lines = [
    "# HELP queued_storage_keys Keys per transfer state.",
    "# TYPE queued_storage_keys gauge",
    ...Object.entries(stats.counts).map(([state, n]) => `queued_storage_keys{state="${state}"} ${n}`),
    "# HELP queued_storage_oldest_pending_seconds Age of the oldest write not yet on the remote (0 when none).",
    "# TYPE queued_storage_oldest_pending_seconds gauge",
    `queued_storage_oldest_pending_seconds ${stats.oldestPending ? Math.max(0, (now - stats.oldestPending.since) / 1000) : 0}`,
    "# HELP queued_storage_transfers_total Transfers that ended in this process since it started, by outcome.",
    "# TYPE queued_storage_transfers_total counter",
    `queued_storage_transfers_total{outcome="transferred"} ${metrics.transferred}`,
    `queued_storage_transfers_total{outcome="failed"} ${metrics.failed}`,
    "# HELP queued_storage_transfer_duration_seconds Duration of the uploads that reached the remote in this process.",
    "# TYPE queued_storage_transfer_duration_seconds histogram",
  ];
  let cumulative = 0;
  BUCKETS.forEach((bound, i) => {
    cumulative += metrics.buckets[i]!;
    lines.push(`queued_storage_transfer_duration_seconds_bucket{le="${bound}"} ${cumulative}`);
  });
  cumulative += metrics.buckets[BUCKETS.length]!;
  lines.push(
    `queued_storage_transfer_duration_seconds_bucket{le="+Inf"} ${cumulative}`,
    `queued_storage_transfer_duration_seconds_sum ${metrics.sum}`,
    `queued_storage_transfer_duration_seconds_count ${cumulative}`,
  );
  return `${lines.join("\n")}\n`;
}
