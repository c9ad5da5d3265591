import { _error, _messageOf } from "../_errors.ts";
import type { _Context } from "./context.ts";
import type { TransferJob, TransferOutcome } from "../types.ts";

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
  const claim = await ctx.flags.claim(flagKey, generation, { token, ms: leaseMs });
  if (claim.status !== "claimed") return claim.status;

  const tiers = await ctx.tiers();
  // Long transfers renew their lease, so no second transfer of the key starts while this one still uploads.
  const renew = setInterval(() => {
    ctx.flags.claim(flagKey, generation, { token, ms: leaseMs }).catch(() => {});
  }, Math.max(10, Math.floor(leaseMs / 3)));

  let done: unknown;
  try {
    done = await ctx.task.run({
      key,
      generation,
      kind: claim.record.kind,
      local: tiers.localStorage,
      remote: tiers.remoteStorage,
      signal: ctx.abort.signal,
    });
  } catch (cause) {
    clearInterval(renew);
    // The queue decides when the key is `failed` (it calls `fail(job)`), so this only records the error.
    const permanent = (cause as { retryable?: boolean })?.retryable === false;
    await ctx.flags.release(flagKey, generation, token, { error: _messageOf(cause) });
    throw _error(`task "${ctx.task.name}" failed for "${key}": ${_messageOf(cause)}`, {
      key,
      cause,
      retryable: !permanent,
    });
  }
  clearInterval(renew);

  if (typeof done !== "boolean") {
    const message = `task "${ctx.task.name}" did not return true or false but ${_describe(done)}`;
    await ctx.flags.release(flagKey, generation, token, { error: message });
    throw _error(`${message} (key "${key}")`, { key, retryable: false });
  }
  if (!done) {
    const message = `task "${ctx.task.name}" returned false`;
    await ctx.flags.release(flagKey, generation, token, { error: message });
    throw _error(`${message} for "${key}"`, { key, retryable: true });
  }

  const deleteLocal = ctx.task.deleteLocal === true;
  const settled = await ctx.flags.settle(flagKey, generation, token, deleteLocal ? { evictMs: leaseMs } : undefined);
  if (settled.status === "stale") {
    // Removed while we uploaded: our upload may have put the object back, and no other transfer can be running
    // (we held the key), so take it away again and drop the tombstone.
    const record = settled.record;
    if (!record || record.state === "removed") {
      await tiers.remote.removeItem?.(key, {});
      if (record) await ctx.flags.forget(flagKey, record.generation);
    }
    return "stale";
  }
  if (deleteLocal) {
    try {
      await tiers.local.removeItem?.(key, {});
    } finally {
      await ctx.flags.evicted(flagKey);
    }
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
