// Byte and stream helpers shared by the core, the drivers, the file handler and the Node transport: the ground floor
// that every folder may import.
import { createError } from "./_errors.ts";

/** A stream chunk as bytes: Uint8Array, other views, ArrayBuffer or string. */
export function chunkBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return new TextEncoder().encode(chunk);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`stream chunks must be bytes or strings, got ${chunk === null ? "null" : typeof chunk}`);
}

/**
 * A Blob read slice by slice as it is pulled. Not `blob.stream()`: Node 20 reads a whole Blob ahead into memory
 * there (its pull ignores backpressure), which for a large or file-backed Blob is the whole value.
 */
export function blobStream(blob: Blob, sliceSize: number = 1024 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (offset >= blob.size) return controller.close();
      const slice = blob.slice(offset, (offset += sliceSize));
      controller.enqueue(new Uint8Array(await slice.arrayBuffer()));
    },
  });
}

// A stream's length known before it is read (a file's size at open) travels on the stream object itself: unstorage
// and queued-storage hand streams through untouched, so the S3 driver learns it without asking the local tier again
// (one PUT with the exact Content-Length, no probing). `Symbol.for`: the fs and s3 entries are bundled apart.
const KNOWN_LENGTH = Symbol.for("queued-storage.knownLength");

const KNOWN_MTIME = Symbol.for("queued-storage.knownMtime");

/**
 * Marks `stream` as producing exactly `length` bytes (and, when given, as the content of a file last modified at
 * `mtime`, so that a file server needs no separate stat); returns the same stream.
 */
export function withKnownLength<T extends ReadableStream<unknown>>(stream: T, length: number, mtime?: Date): T {
  Object.defineProperty(stream, KNOWN_LENGTH, { value: length });
  if (mtime) Object.defineProperty(stream, KNOWN_MTIME, { value: mtime });
  return stream;
}

/** The modification time a stream was marked with by `withKnownLength`, if any. */
export function knownMtime(stream: ReadableStream<unknown>): Date | undefined {
  const mtime = (stream as unknown as Record<symbol, unknown>)[KNOWN_MTIME];
  return mtime instanceof Date ? mtime : undefined;
}

/** The length a stream was marked with by `withKnownLength`, if any. */
export function knownLength(stream: ReadableStream<unknown>): number | undefined {
  const length = (stream as unknown as Record<symbol, unknown>)[KNOWN_LENGTH];
  return typeof length === "number" && Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/**
 * A byte range of a read: `getItemRaw(key, { type: "stream", range: { offset, length } })`. `length` omitted reads to
 * the end; a range past the end yields what exists (possibly nothing).
 */
export interface ByteRange {
  /** First byte, from 0. */
  offset: number;
  /** Bytes to read at most. Default: to the end. */
  length?: number;
}

/** The range of read options, validated; `undefined` when none was asked for. */
export function rangeOf(driver: string, opts: { range?: unknown } | undefined): ByteRange | undefined {
  const range = opts?.range as ByteRange | undefined;
  if (range === undefined || range === null) return undefined;
  const whole = (n: unknown): boolean => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  if (typeof range !== "object" || !whole(range.offset) || (range.length !== undefined && !whole(range.length))) {
    throw createError(driver, `Invalid \`range\` ${JSON.stringify(range)}: expected { offset, length? } of whole non-negative numbers.`);
  }
  return range;
}

/**
 * The bytes of `range` out of a whole-value stream, for sources that cannot seek: skips up to the offset without
 * keeping anything, stops (and cancels the source) once the length is served.
 */
export function sliceStream(source: ReadableStream<unknown>, range: ByteRange): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let skip = range.offset;
  let left = range.length ?? Number.POSITIVE_INFINITY;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (left <= 0) {
          controller.close();
          await reader.cancel().catch(() => {});
          return;
        }
        const { done, value } = await reader.read();
        if (done) return controller.close();
        let bytes = chunkBytes(value);
        if (skip >= bytes.byteLength) {
          skip -= bytes.byteLength;
          continue;
        }
        bytes = bytes.subarray(skip, skip + Math.min(left, bytes.byteLength - skip));
        skip = 0;
        left -= bytes.byteLength;
        if (bytes.byteLength > 0) return controller.enqueue(bytes);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
