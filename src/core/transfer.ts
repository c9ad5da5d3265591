import type { Driver } from "unstorage";
import { _error, _messageOf } from "../_errors.ts";
import { _held } from "../flags/_transitions.ts";
import { _STALE_REMOTE } from "../tasks.ts";
import type { _Context } from "./context.ts";
import { _keepLease, _pollWhile, type _Lease } from "./_lease.ts";
import { _dropStaleUpload } from "./remove.ts";
import { _evict, _evictSettled } from "./_evict.ts";
import type { TransferJob, TransferOutcome } from "../contracts.ts";

/**
 * Run one transfer job: take the key (one transfer per key at a time), run the task, compare-and-set the state to
 * `remote` only if the generation is still the job's, then delete the local copy if the task asks for it.
 * Rejects when the attempt failed; `error.retryable === false` when retrying cannot help.
 */
export async function _runJob(ctx: _Context, job: TransferJob): Promise<TransferOutcome> {
  const { key, generation } = job;
  const flagKey = ctx.flagKey(key);
  const { leaseMs } = ctx.options;
  const token = _token();
  const claimedAt = Date.now();
  const claim = await ctx.flags.claim(flagKey, generation, { token, ms: leaseMs });
  if (claim.status === "already-remote" && ctx.task.deleteLocal) await _evictSettled(ctx, key, generation);
  if (claim.status !== "claimed") return claim.status;

  const tiers = await ctx.tiers();
  // The lease is renewed by its token while the task runs, and on through the local delete of transferAndDelete.
  let lease: _Lease | undefined;
  let done: unknown;
  try {
    lease = _keepLease(ctx, key, flagKey, token, claimedAt);
    done = await ctx.task.run({
      key,
      generation,
      kind: claim.record.kind,
      fresh: claim.record.replaced === 0,
      local: tiers.localStorage,
      remote: tiers.remoteStorage,
      signal: lease.signal,
    });
  } catch (cause) {
    lease?.stop();
    return _failedAttempt(ctx, job, token, cause);
  }

  if (typeof done !== "boolean") {
    lease.stop();
    const message = `task "${ctx.task.name}" did not return true or false but ${_describe(done)}`;
    await ctx.flags.release(flagKey, generation, token, { error: message });
    throw _error(`${message} (key "${key}")`, { key, retryable: false });
  }
  if (!done) {
    lease.stop();
    const message = `task "${ctx.task.name}" returned false`;
    await ctx.flags.release(flagKey, generation, token, { error: message });
    throw _error(`${message} for "${key}"`, { key, retryable: true });
  }

  const deleteLocal = ctx.task.deleteLocal === true;
  const lost = lease.lost();
  if (!deleteLocal) lease.stop();
  const settled = await ctx.flags.settle(flagKey, generation, token, deleteLocal ? { evictMs: leaseMs } : undefined);
  if (settled.status === "stale") {
    lease.stop();
    // Removed while we uploaded: our upload may have put the object back, and no other transfer can be running
    // (we held the key), so take it away again and drop the tombstone.
    const record = settled.record;
    if (!record || record.state === "removed") {
      await _dropStaleUpload(ctx, key, tiers.remote);
    } else if (lost) {
      await _repairOverwrite(ctx, key, tiers.local);
    }
    return "stale";
  }
  if (deleteLocal) {
    // Only while the key is ours: a transfer of this generation that took over our lapsed lease deletes it itself.
    if (settled.record.lease === token) await _evict(ctx, key, token, generation, lease, tiers.local);
    else lease.stop();
  }
  await _safely(() =>
    ctx.options.onTransferred?.({ key, generation, task: ctx.task.name, attempts: settled.record.attempts }),
  );
  return "transferred";
}

/** Retries are exhausted (or a dead-letter callback arrived): mark the job's generation `failed`. */
export async function _failJob(ctx: _Context, job: TransferJob, reason: unknown): Promise<void> {
  const flagKey = ctx.flagKey(job.key);
  const message = _messageOf(reason);
  const before = await ctx.flags.get(flagKey);
  // Stale, or already failed by an earlier delivery of the same dead letter: onFailed fires once.
  if (!before || before.generation !== job.generation || before.state === "failed") return;
  // Not the lease holder: the release only records the failure when the generation is still current.
  const record = await ctx.flags.release(flagKey, job.generation, "", { error: message, final: true });
  if (record?.state !== "failed" || record.generation !== job.generation) return;
  await _safely(() =>
    ctx.options.onFailed?.({
      key: job.key,
      generation: job.generation,
      task: ctx.task.name,
      attempts: record.attempts,
      error: message,
    }),
  );
}

// --- internal ---

/**
 * A task threw. A fenced remote refusing a stale commit (412) or holding a newer generation ends a stale job quietly;
 * anything else is recorded and rethrown for the queue to retry (or not, `retryable: false`, such as a missing local
 * copy: a job is only queued once its local write finished, so that copy vanished; ghosts are `sync()`'s business).
 */
async function _failedAttempt(ctx: _Context, job: TransferJob, token: string, cause: unknown): Promise<TransferOutcome> {
  const { key, generation } = job;
  const flagKey = ctx.flagKey(key);
  const failure = cause as { status?: number; code?: string; retryable?: boolean };
  if (failure?.status === 412 || failure?.code === _STALE_REMOTE) {
    // Another commit reached the remote first. Our generation is stale: done. Still current: the retry finds the
    // remote's generation (the same one: accepted; an older one: uploaded again over it).
    const record = await ctx.flags.release(flagKey, generation, token, { error: _messageOf(cause) });
    if (!record || record.generation !== generation || record.state === "removed") return "stale";
    if (record.state === "remote") return _settledElsewhere(ctx, key, generation);
    throw _error(`task "${ctx.task.name}" failed for "${key}": ${_messageOf(cause)}`, { key, cause, retryable: true });
  }
  // The queue decides when the key is `failed` (it calls `fail(job)`), so this only records the error.
  const record = await ctx.flags.release(flagKey, generation, token, { error: _messageOf(cause) });
  if (record?.state === "remote" && record.generation === generation) return _settledElsewhere(ctx, key, generation);
  throw _error(`task "${ctx.task.name}" failed for "${key}": ${_messageOf(cause)}`, {
    key,
    cause,
    retryable: failure?.retryable !== false,
  });
}

/**
 * Our attempt failed, but another transfer of the same generation (one that took over our lapsed lease) settled it:
 * the job's work is done, and with `transferAndDelete` its local delete must not be left undone.
 */
async function _settledElsewhere(ctx: _Context, key: string, generation: number): Promise<TransferOutcome> {
  if (ctx.task.deleteLocal) await _evictSettled(ctx, key, generation);
  return "already-remote";
}

/**
 * Our lease lapsed while we uploaded a generation that is stale now: a newer generation may have been uploaded
 * meanwhile and overwritten by our late write (a remote without conditional writes cannot refuse it). Once nobody
 * holds the key, put the current generation back in the queue if it is `remote` and a local copy of it still exists.
 */
async function _repairOverwrite(ctx: _Context, key: string, local: Driver): Promise<void> {
  const record = await _pollWhile(ctx, key, await ctx.flags.get(ctx.flagKey(key)), (r) => _held(r, Date.now()));
  if (!record || record.state !== "remote") return; // its own transfer is still to come, after ours
  if (!(await local.hasItem(key, {}))) {
    console.error(`[queued-storage] "${key}": a transfer that lost its lease may have overwritten generation ${record.generation} ` +
      "on the remote, and no local copy is left to repair it (use a remote with conditional writes, such as the S3 driver)");
    return;
  }
  const requeued = await ctx.flags.requeue(ctx.flagKey(key), record.generation);
  if (requeued?.state === "queued") await ctx.queue.enqueue({ key, generation: requeued.generation }, { redo: true });
}

async function _safely(hook: () => unknown): Promise<void> {
  try {
    await hook();
  } catch (error) {
    console.error("[queued-storage] event handler threw:", error);
  }
}

function _token(): string {
  return crypto.randomUUID();
}

function _describe(value: unknown): string {
  if (value === undefined) return "undefined";
  try {
    return `${typeof value} ${JSON.stringify(value)}`;
  } catch {
    return typeof value;
  }
}
