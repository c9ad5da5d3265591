import type { Driver } from "unstorage";
import { _error, _messageOf } from "../_errors.ts";
import { _assertKey } from "../_keys.ts";
import type { _Context } from "./context.ts";
import { _pollWhile } from "./_lease.ts";
import { _recordNoJob } from "./_outbox.ts";
import type { FlagRecord, ValueKind } from "../contracts.ts";

/** What a write is told besides its value: unstorage hands the caller's transaction options through. */
export interface _WriteOptions {
  /** Keeps a serverless instance alive for the background publish (`acknowledge: "stored"`); wins over the option. */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/**
 * The write path: record the intent (one atomic step: a new generation, `queued`), store the bytes locally, then
 * queue the transfer of that generation. The intent and the local put run in the key's lane, so the local puts of
 * one key land in generation order and no removal or control of the key runs in between. A failed local put rolls
 * the intent back; a failed enqueue is recorded on the key so that `sync()` queues it again. With
 * `acknowledge: "stored"` the write resolves once the bytes are stored and the outbox publishes the job after.
 */
export async function _write(
  ctx: _Context,
  key: string,
  kind: ValueKind,
  put: (local: Driver) => Promise<unknown>,
  options?: _WriteOptions,
): Promise<void> {
  _assertKey(key);
  const { local } = await ctx.tiers();
  // Only stores that can mark the bytes landed record `storing`: elsewhere the record would never leave it.
  const storing = ctx.options.acknowledge === "stored" && !ctx.options.delayed && typeof ctx.flags.landed === "function";
  const generation = await ctx.lane(key, () => _intentAndPut(ctx, key, kind, () => put(local), storing));
  if (ctx.options.delayed) return;
  if (ctx.options.acknowledge === "stored") {
    const waitUntil = typeof options?.waitUntil === "function" ? options.waitUntil : ctx.options.waitUntil;
    ctx.outbox.send(key, generation, waitUntil);
    return;
  }
  try {
    await ctx.queue.enqueue({ key, generation });
  } catch (cause) {
    await _noJob(ctx, key, generation, cause).catch(() => {});
    throw _error(
      `"${key}" is stored locally but queuing its transfer failed: ${_messageOf(cause)}; sync() will queue it again`,
      { key, cause },
    );
  }
}

// --- internal ---

/** The intent, then the bytes; resolves to the new generation. */
async function _intentAndPut(
  ctx: _Context,
  key: string,
  kind: ValueKind,
  put: () => Promise<unknown>,
  storing: boolean,
): Promise<number> {
  const flagKey = ctx.flagKey(key);
  let begun: Awaited<ReturnType<typeof ctx.flags.begin>>;
  try {
    begun = await ctx.flags.begin(flagKey, storing ? { delayed: ctx.options.delayed, kind, storing } : { delayed: ctx.options.delayed, kind });
  } catch (cause) {
    throw _error(`cannot write "${key}": recording its transfer intent failed: ${_messageOf(cause)}`, { key, cause });
  }
  // A transferAndDelete is removing the previous local copy: let it finish so it cannot take our bytes with it. In this
  // process its delete call is awaited itself; elsewhere its mark, renewed by the delete's lease until the delete
  // really ended (evicted).
  await ctx.evicting(key)?.catch(() => {});
  const evicting = (record: FlagRecord): boolean => (record.evictUntil ?? 0) > Date.now();
  if (evicting(begun.record)) await _pollWhile(ctx, key, begun.record, evicting);
  try {
    await put();
  } catch (cause) {
    // The key stays as it was: the intent is rolled back (compare-and-set on our generation), so no ghost is left
    // to be listed, re-queued or reported failed.
    const note = await _rollBack(ctx, key, begun.record.generation, begun.previous).then(
      () => "",
      (error: unknown) => `; rolling back its transfer intent failed too (${_messageOf(error)}), sync() will drop it`,
    );
    throw _error(`cannot write "${key}" to the local driver: ${_messageOf(cause)}${note}`, { key, cause });
  }
  return begun.record.generation;
}

/**
 * Restore the record the write replaced. Its transfer job may have run meanwhile and ended as stale (it saw our
 * generation): a restored `queued` record (the store turns a `transferring` one whose upload is gone into `queued`)
 * gets a job again, so the restored generation is never left without one.
 */
async function _rollBack(ctx: _Context, key: string, generation: number, previous: FlagRecord | null): Promise<void> {
  const flagKey = ctx.flagKey(key);
  if (!(await ctx.flags.rollback(flagKey, generation, previous)) || !previous) return;
  const restored = await ctx.flags.get(flagKey);
  if (restored?.generation === previous.generation && restored.state === "queued") {
    await ctx.queue.enqueue({ key, generation: restored.generation }, { redo: true }).catch((cause: unknown) =>
      _noJob(ctx, key, restored.generation, cause),
    );
  }
}

function _noJob(ctx: _Context, key: string, generation: number, cause: unknown): Promise<unknown> {
  return _recordNoJob(ctx.flags, ctx.flagKey(key), generation, cause);
}
