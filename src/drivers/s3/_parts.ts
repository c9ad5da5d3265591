import { chunkBytes } from "../_utils.ts";

/**
 * Reads a stream into parts: `next(buffer, from)` fills `buffer` (a view from offset 0 of its own ArrayBuffer) from
 * byte `from` on (the bytes before it are kept) and returns the filled view from 0, which may sit on a new
 * ArrayBuffer object: BYOB reads transfer the memory they fill.
 */
export interface PartReader {
  next(buffer: Uint8Array, from?: number): Promise<Uint8Array>;
  /** The source has ended and everything read has been handed out. */
  readonly done: boolean;
  cancel(reason: unknown): void;
}

/**
 * Byte streams (files from our fs driver, fetch bodies) are read BYOB, straight into the part buffer: no chunk is
 * allocated per read, so a transfer makes no garbage. Other streams are read chunk by chunk and copied.
 */
export function createPartReader(stream: ReadableStream<unknown>): PartReader {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = (stream as ReadableStream<Uint8Array>).getReader({ mode: "byob" });
  } catch {
    // not a byte stream
  }
  return byob ? byobParts(byob) : chunkParts(stream.getReader());
}

// --- internal ---

function byobParts(reader: ReadableStreamBYOBReader): PartReader {
  let ended = false;
  return {
    get done() {
      return ended;
    },
    async next(buffer, from = 0) {
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
    },
    cancel(reason) {
      reader.cancel(reason).catch(() => {});
    },
  };
}

function chunkParts(reader: ReadableStreamDefaultReader<unknown>): PartReader {
  let leftover: Uint8Array | undefined;
  let ended = false;
  return {
    get done() {
      return ended && !leftover;
    },
    async next(buffer, from = 0) {
      const size = buffer.byteLength;
      let filled = from;
      while (filled < size) {
        let chunk = leftover;
        leftover = undefined;
        if (!chunk) {
          if (ended) break;
          const result = await reader.read();
          if (result.done) {
            ended = true;
            break;
          }
          chunk = chunkBytes(result.value);
        }
        const take = Math.min(chunk.byteLength, size - filled);
        buffer.set(take === chunk.byteLength ? chunk : chunk.subarray(0, take), filled);
        filled += take;
        if (take < chunk.byteLength) leftover = chunk.subarray(take);
      }
      return buffer.subarray(0, filled);
    },
    cancel(reason) {
      reader.cancel(reason).catch(() => {});
    },
  };
}
