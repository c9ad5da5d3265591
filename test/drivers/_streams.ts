// Helpers of the driver tests: deterministic generated streams (never one big buffer), digests, RSS sampling.
import { createHash } from "node:crypto";

export const MiB: number = 1024 * 1024;

export interface Generated {
  stream: ReadableStream<Uint8Array>;
  /** SHA-256 (hex) of everything the stream produced; resolves once it has been read to the end. */
  sha256: Promise<string>;
}

/**
 * `size` pseudo-random bytes, produced as they are pulled. By default in fresh chunks of `chunkSize`; with `bytes`, as
 * a byte stream that fills the reader's own buffer (BYOB), as files and fetch bodies do, allocating nothing per read.
 * With `failAfter`, the stream errors once that many bytes have been produced (a source failing mid-transfer).
 */
export function generatedStream(
  size: number,
  options: { chunkSize?: number; seed?: number; failAfter?: number; bytes?: boolean } = {},
): Generated {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  let state = (options.seed ?? 1) >>> 0 || 1;
  let word = 0;
  let wordBytes = 0;
  let produced = 0;
  const hash = createHash("sha256");
  let done!: (hex: string) => void;
  const sha256 = new Promise<string>((resolve) => (done = resolve));
  const fill = (target: Uint8Array): void => {
    for (let i = 0; i < target.length; i++) {
      if (wordBytes === 0) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        word = state >>> 0;
        wordBytes = 4;
      }
      target[i] = word & 0xff;
      word >>>= 8;
      wordBytes--;
    }
    hash.update(target);
    produced += target.length;
  };
  const ended = (): boolean => {
    if (options.failAfter !== undefined && produced >= options.failAfter) {
      throw new Error(`source failed after ${produced} bytes`);
    }
    if (produced < size) return false;
    done(hash.digest("hex"));
    return true;
  };
  const stream = options.bytes
    ? new ReadableStream({
        type: "bytes",
        autoAllocateChunkSize: chunkSize,
        pull(controller) {
          const request = controller.byobRequest!;
          if (ended()) {
            controller.close();
            request.respond(0);
            return;
          }
          const view = request.view as Uint8Array;
          const length = Math.min(view.byteLength, size - produced);
          fill(view.subarray(0, length));
          request.respond(length);
        },
      })
    : new ReadableStream<Uint8Array>({
        pull(controller) {
          if (ended()) return controller.close();
          const chunk = new Uint8Array(Math.min(chunkSize, size - produced));
          fill(chunk);
          controller.enqueue(chunk);
        },
      });
  return { stream: stream as ReadableStream<Uint8Array>, sha256 };
}

/** Size and SHA-256 of a stream, read chunk by chunk. */
export async function digestStream(stream: ReadableStream<Uint8Array>): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    hash.update(r.value);
    size += r.value.byteLength;
  }
  return { size, sha256: hash.digest("hex") };
}

export interface RssSample {
  baseline: number;
  peak: number;
  growth: number;
}

/** Samples this process's RSS every `everyMs` until `stop()`; growth = peak − the RSS at start. */
export function sampleRss(everyMs = 20): { stop(): RssSample } {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return { baseline, peak, growth: peak - baseline };
    },
  };
}

export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
