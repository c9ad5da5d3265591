import type { Storage } from "unstorage";
import type { _Context } from "./context.ts";

// Bytes done of the transfers running in this process (issue 21), for `status(key).progress`, the status page and the
// CLI's bar. The task's local tier is handed over with getItemRaw wrapped: a stream read counts its chunks on the way
// through, and keeps the length the local driver marked it with (`Symbol.for("queued-storage.knownLength")`, see
// withKnownLength), so the remote driver still sees it and the size is known as `total`.

const KNOWN_LENGTH = Symbol.for("queued-storage.knownLength");

export interface _ProgressEntry {
  bytes: number;
  total?: number;
  /** A stream of the local copy is being read (before that, or for values that are no stream, there is no progress). */
  reading?: boolean;
}

export interface _Progress {
  /** Bytes done of `key`'s transfer of `generation` running in this process, if it reads a stream. */
  of(key: string, generation: number): _ProgressEntry | undefined;
}

const _progress = new WeakMap<_Context, _Progress>();

/** Install progress tracking on a storage's task once; later calls return the same tracker. */
export function _trackProgress(ctx: _Context): _Progress {
  const existing = _progress.get(ctx);
  if (existing) return existing;
  const running = new Map<string, _ProgressEntry>();
  const id = (key: string, generation: number): string => `${generation}\u0000${key}`;
  const task = ctx.task;
  ctx.task = {
    name: task.name,
    deleteLocal: task.deleteLocal,
    async run(context) {
      const entry: _ProgressEntry = { bytes: 0 };
      const slot = id(context.key, context.generation);
      running.set(slot, entry);
      try {
        return await task.run({ ...context, local: _counting(context.local, entry) });
      } finally {
        if (running.get(slot) === entry) running.delete(slot);
      }
    },
  };
  const progress: _Progress = {
    of(key, generation) {
      const entry = running.get(id(key, generation));
      return entry?.reading ? entry : undefined;
    },
  };
  _progress.set(ctx, progress);
  return progress;
}

/** `local` with getItemRaw counting the bytes of the streams it returns into `entry` (a new read starts at 0). */
function _counting(local: Storage, entry: _ProgressEntry): Storage {
  const getItemRaw: Storage["getItemRaw"] = async (key, options) => {
    const value: unknown = await local.getItemRaw(key, options);
    if (!(value instanceof ReadableStream)) return value as never;
    const length = (value as unknown as Record<symbol, unknown>)[KNOWN_LENGTH];
    entry.bytes = 0;
    entry.reading = true;
    if (typeof length === "number") entry.total = length;
    const counted = value.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          entry.bytes += chunk.byteLength;
          controller.enqueue(chunk);
        },
      }),
    );
    if (typeof length === "number") Object.defineProperty(counted, KNOWN_LENGTH, { value: length });
    return counted as never;
  };
  return new Proxy(local, {
    get(target, property) {
      if (property === "getItemRaw") return getItemRaw;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
