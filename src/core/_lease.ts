import { _error } from "../_errors.ts";
import type { FlagRecord } from "../contracts.ts";
import type { _Context } from "./context.ts";

/** A transfer's hold on its key: renewed by its token for as long as the upload or local delete runs. */
export interface _Lease {
  /** Handed to the task: aborted when the lease is lost, or (at the next renewal) when the storage was disposed. */
  signal: AbortSignal;
  /** Whether the lease may have lapsed: another transfer of the key could have run meanwhile. */
  lost(): boolean;
  stop(): void;
}

/**
 * Keep the lease `token` took at `claimedAt`. Renewal is by token, never by generation: a newer write must not end
 * the lease of an upload that still runs (issue 9). The local deadline is counted from when each renewal was *sent*,
 * so this process gives up no later than the store would.
 */
export function _keepLease(ctx: _Context, key: string, flagKey: string, token: string, claimedAt: number): _Lease {
  const { leaseMs } = ctx.options;
  const controller = new AbortController();
  let until = claimedAt + leaseMs;
  let lost = false;
  const lose = (why: string): void => {
    if (lost) return;
    lost = true;
    controller.abort(_error(`transfer of "${key}" lost its lease (${why}); another transfer may hold the key now`, { key, retryable: true }));
  };
  // The storage's dispose is polled through a plain flag, never its AbortSignal: on Cloudflare Workers that signal may
  // belong to another request, whose I/O objects this one must not touch, not even to read `aborted`.
  const disposed = (): boolean => {
    if (ctx.disposed && !controller.signal.aborted) controller.abort(_error("the storage was disposed", { key }));
    return ctx.disposed;
  };
  disposed();
  const timer = setInterval(() => {
    if (disposed()) return;
    if (Date.now() >= until) return lose(`not renewed within ${leaseMs} ms`);
    const sentAt = Date.now();
    ctx.flags.renew(flagKey, token, leaseMs).then(
      (record) => (record ? void (until = Math.max(until, sentAt + leaseMs)) : lose("taken over or released")),
      () => {}, // the store is unreachable: the deadline above decides
    );
  }, Math.max(10, Math.floor(leaseMs / 3)));
  return {
    signal: controller.signal,
    lost: () => lost || Date.now() >= until,
    stop: () => clearInterval(timer),
  };
}

/** Poll the key's record (5 ms, doubling to 200 ms) while `waiting(record)` holds; resolves to the last record read. */
export async function _pollWhile(
  ctx: _Context,
  key: string,
  record: FlagRecord | null,
  waiting: (record: FlagRecord) => boolean,
): Promise<FlagRecord | null> {
  for (let wait = 5; record && waiting(record); wait = Math.min(wait * 2, 200)) {
    await new Promise((resolve) => setTimeout(resolve, wait));
    record = await ctx.flags.get(ctx.flagKey(key));
  }
  return record;
}
