import { _error } from "./_errors.ts";
import { knownLength } from "./_streams.ts";
import type { Storage } from "unstorage";
import type { Task, TaskContext } from "./contracts.ts";

/**
 * Define a custom transfer task. `run` returns `true` when the remote holds the value, `false` to be retried;
 * throwing also retries, with the error recorded. Anything else fails the job with an error naming the task.
 *
 * @example
 * const transferAndNotify = defineTask({
 *   name: "transferAndNotify",
 *   async run(ctx) {
 *     const done = await transfer.run(ctx);
 *     if (done) await fetch("https://hooks.example.com/uploaded", { method: "POST", body: ctx.key });
 *     return done;
 *   },
 * });
 */
export function defineTask(
  definition: Task["run"] | { name: string; run: Task["run"]; deleteLocal?: boolean },
): Task {
  if (typeof definition === "function") return { name: definition.name || "task", run: definition };
  if (!definition || typeof definition.run !== "function") {
    throw _error("defineTask: expected a function or `{ name, run }`", { type: TypeError, retryable: false });
  }
  return { name: definition.name, run: definition.run, deleteLocal: definition.deleteLocal === true };
}

/** @internal The remote holds a newer generation than the job's: the transfer runner ends the job as stale. */
export const _STALE_REMOTE = "REMOTE_HOLDS_NEWER";
const _LOCAL_MISSING = "LOCAL_COPY_MISSING";

/**
 * Options our S3 driver honours on `setItemRaw`/`setItem` (other drivers ignore them): a conditional commit
 * (`If-Match` / `If-None-Match`, 412 when the object changed since we looked) and user metadata that travels with
 * the object (`x-amz-meta-generation`), so "the remote holds exactly generation N" can be checked later.
 */
export interface FencedWriteOptions {
  /** Commit only over this ETag. */
  ifMatch?: string;
  /** `"*"`: commit only when the key holds no object. */
  ifNoneMatch?: string;
  /** User metadata stored with the object (`x-amz-meta-<name>`). */
  meta?: Record<string, string>;
  signal?: AbortSignal;
}

async function _copy(context: TaskContext): Promise<boolean> {
  const { key, generation, kind, local, remote, signal } = context;
  // A remote with conditional writes says what it holds (HeadObject: ETag and generation) before we commit over it.
  const fenced = _conditionalWrites(remote, key);
  // A new key (no earlier generation known) most likely has nothing there: commit only-if-absent at once, one request
  // instead of two; only if something is there after all (412) look at it as for any key.
  if (fenced && context.fresh && (await _commitIfAbsent(context))) return true;
  const held = fenced ? await remote.getMeta(key, { nativeOnly: true, signal }) : undefined;
  const heldGeneration = held?.generation === undefined ? undefined : Number(held.generation);
  if (heldGeneration === generation) return true; // exactly this generation is there already (a repeated delivery)
  if (heldGeneration !== undefined && heldGeneration > generation) {
    throw Object.assign(_error(`transfer of "${key}" (generation ${generation}): the remote holds the newer generation ${heldGeneration}`, { key }), {
      code: _STALE_REMOTE,
    });
  }
  // A value written with setItem moves as the string the local driver stored, through the drivers' text API, so the
  // remote holds what a direct setItem would have stored (drivers without raw support would keep bytes as `base64:`
  // text, and some keep bytes that their getItem hands back undecoded). Raw values, and records older than kinds,
  // move as a stream when both tiers can stream it: memory stays bounded by chunk and part sizes.
  const value = kind === "text" ? await _storedText(local, key, signal) : await local.getItemRaw(key, { type: "stream", signal });
  if (value === null || value === undefined) {
    // Never "fine if the remote has something": only this very generation would do, and that was checked above.
    const remoteGeneration = fenced ? (held?.etag ? (heldGeneration ?? NaN) : null) : (await remote.hasItem(key, { signal })) ? NaN : null;
    const what = remoteGeneration === null ? "nothing" : Number.isNaN(remoteGeneration)
      ? "an object whose generation cannot be checked" : `generation ${remoteGeneration}`;
    throw Object.assign(_error(`transfer of "${key}": the local copy of generation ${generation} is missing and the remote holds ${what}`, {
      key,
      retryable: false,
    }), { code: _LOCAL_MISSING, remoteGeneration });
  }
  const fence: FencedWriteOptions = { signal };
  if (fenced) {
    Object.assign(fence, held?.etag ? { ifMatch: held.etag } : { ifNoneMatch: "*" });
    fence.meta = { generation: String(generation) };
  }
  // Storage.setItem stringifies a string as itself, so the stored text arrives unchanged.
  await (kind === "text" ? remote.setItem(key, value, fence) : remote.setItemRaw(key, value, fence));
  return true;
}

/** Values up to this size are sent only-if-absent before looking (a wasted send on a 412 costs at most this). */
const _OPTIMISTIC_BYTES = 1024 * 1024;

/**
 * The optimistic commit of a fresh key: `If-None-Match: *` with the generation, without a HeadObject first. `false`
 * when that proved nothing (the value is large or missing, or the remote holds an object: 412, or 409 for a
 * concurrent conditional write); the caller then copies the checked way, reading the local copy again.
 */
async function _commitIfAbsent({ key, generation, kind, local, remote, signal }: TaskContext): Promise<boolean> {
  const value = kind === "text" ? await _storedText(local, key, signal) : await local.getItemRaw(key, { type: "stream", signal });
  if (value === null || value === undefined) return false;
  const size = typeof value === "string" ? value.length * 3 : value instanceof ReadableStream ? knownLength(value)
    : value instanceof Uint8Array ? value.byteLength : undefined;
  if (size === undefined || size > _OPTIMISTIC_BYTES) {
    if (value instanceof ReadableStream) await value.cancel().catch(() => {});
    return false;
  }
  const fence: FencedWriteOptions = { signal, ifNoneMatch: "*", meta: { generation: String(generation) } };
  try {
    await (kind === "text" ? remote.setItem(key, value, fence) : remote.setItemRaw(key, value, fence));
    return true;
  } catch (error) {
    const status = (error as { status?: unknown })?.status;
    if (status === 412 || status === 409) return false;
    throw error;
  }
}

/**
 * `_copy`, then make sure the remote kept the value before the local copy goes: some drivers drop a write silently
 * (an LRU cache over its entry size). A conditional write to a fenced remote answers for itself.
 */
async function _copyKept(context: TaskContext): Promise<boolean> {
  const done = await _copy(context);
  const { key, remote, signal } = context;
  if (done && !_conditionalWrites(remote, key) && !(await remote.hasItem(key, { signal }))) {
    throw _error(`transfer of "${key}": the remote accepted the write but does not hold the value; the local copy is kept`, { key });
  }
  return done;
}

/** The remote driver declares `flags.conditionalWrites` (our S3 driver does). */
function _conditionalWrites(remote: Storage, key: string): boolean {
  const flags = remote.getMount(key).driver.flags as { conditionalWrites?: boolean } | undefined;
  return flags?.conditionalWrites === true;
}

/** The text the driver under `storage` stored for `key`: Storage.getItem would parse it (destr). */
function _storedText(storage: TaskContext["local"], key: string, signal: AbortSignal): Promise<unknown> {
  const { base, driver } = storage.getMount(key);
  return Promise.resolve(driver.getItem(key.slice(base.length), { signal }));
}

/** Stream the local copy to the remote. The default task. */
export const transfer: Task = { name: "transfer", run: _copy };

/**
 * Stream the local copy to the remote, then remove the local copy, once the remote holds this generation and
 * only if no newer write has begun. Reads never miss the value in between: they fall back to the remote.
 */
export const transferAndDelete: Task = { name: "transferAndDelete", run: _copyKept, deleteLocal: true };
