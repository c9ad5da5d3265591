import { chunkBytes } from "./_streams.ts";

/**
 * Reads a stream into parts: `next(buffer, from)` fills `buffer` (a view from offset 0 of its own ArrayBuffer) from
 * byte `from` on (the bytes before it are kept) and returns the filled view from 0, which may sit on a new
 * ArrayBuffer object: BYOB reads transfer the memory they fill.
 */
export interface PartReader {
  next(buffer: Uint8Array, from?: number): Promise<Uint8Array>;
  /**
   * Up to `length` bytes (fewer only when the source ends sooner). A chunk of exactly `length` bytes is handed back
   * as it is, without a copy: a small file from our fs driver arrives as one such chunk.
   */
  take(length: number): Promise<Uint8Array>;
  /** Whether the source has nothing more; reads once to find out (a byte read then is dropped: the caller fails). */
  atEnd(): Promise<boolean>;
  /** The source has ended and everything read has been handed out. */
  readonly done: boolean;
  cancel(reason: unknown): void;
}

/**
 * Byte streams (files from our fs driver, fetch bodies) are read BYOB, straight into the part buffer: no chunk is
 * allocated per read, so a transfer makes no garbage. Other streams are read chunk by chunk and copied.
 */
export function createPartReader(stream: ReadableStream<unknown>, options: { chunks?: boolean } = {}): PartReader {
  let byob: ReadableStreamBYOBReader | undefined;
  // `chunks`: a small value read as it comes; also spares the TypeError (and its stack) a non-byte stream throws here.
  if (!options.chunks) {
    try {
      byob = (stream as ReadableStream<Uint8Array>).getReader({ mode: "byob" });
    } catch {
      // not a byte stream
    }
  }
  return byob ? byobParts(byob) : chunkParts(stream.getReader());
}

// --- internal ---

function byobParts(reader: ReadableStreamBYOBReader): PartReader {
  let ended = false;
  const next = async (buffer: Uint8Array, from = 0): Promise<Uint8Array> => {
    let memory = buffer.buffer as ArrayBuffer;
    const size = buffer.byteLength;
    let filled = from;
    while (filled < size && !ended) {
      const { done, value } = await reader.read(new Uint8Array(memory, filled, size - filled));
      // The memory comes back (transferred) with the result; only a cancelled stream keeps it.
      memory = (value?.buffer as ArrayBuffer | undefined) ?? new ArrayBuffer(size);
      if (done) ended = true;
      else filled += value.byteLength;
    }
    return new Uint8Array(memory, 0, filled);
  };
  return {
    get done() {
      return ended;
    },
    next,
    take: (length) => next(new Uint8Array(length)),
    async atEnd() {
      if (ended) return true;
      // BYOB reads need a view of at least one byte.
      const { done } = await reader.read(new Uint8Array(1));
      return (ended = done);
    },
    cancel(reason) {
      reader.cancel(reason).catch(() => {});
    },
  };
}

function chunkParts(reader: ReadableStreamDefaultReader<unknown>): PartReader {
  let leftover: Uint8Array | undefined;
  let ended = false;
  /** The next non-empty chunk (the leftover first), or `undefined` at the end. */
  const nextChunk = async (): Promise<Uint8Array | undefined> => {
    if (leftover) {
      const chunk = leftover;
      leftover = undefined;
      return chunk;
    }
    while (!ended) {
      const result = await reader.read();
      if (result.done) ended = true;
      else {
        const chunk = chunkBytes(result.value);
        if (chunk.byteLength > 0) return chunk;
      }
    }
    return undefined;
  };
  const next = async (buffer: Uint8Array, from = 0): Promise<Uint8Array> => {
    const size = buffer.byteLength;
    let filled = from;
    while (filled < size) {
      const chunk = await nextChunk();
      if (!chunk) break;
      const take = Math.min(chunk.byteLength, size - filled);
      buffer.set(take === chunk.byteLength ? chunk : chunk.subarray(0, take), filled);
      filled += take;
      if (take < chunk.byteLength) leftover = chunk.subarray(take);
    }
    return buffer.subarray(0, filled);
  };
  return {
    get done() {
      return ended && !leftover;
    },
    next,
    async take(length) {
      const chunk = await nextChunk();
      if (!chunk) return new Uint8Array(0);
      if (chunk.byteLength === length) return chunk;
      leftover = chunk;
      return next(new Uint8Array(length));
    },
    async atEnd() {
      const chunk = await nextChunk();
      if (chunk) leftover = chunk;
      return !chunk;
    },
    cancel(reason) {
      reader.cancel(reason).catch(() => {});
    },
  };
}
