// Helpers of the driver tests: deterministic generated streams (never one big buffer), digests, RSS sampling.
import { createHash } from "node:crypto";

export const MiB = 1024 * 1024;

export interface Generated {
  stream: ReadableStream<Uint8Array>;
  /** SHA-256 (hex) of everything the stream produced; resolves once it has been read to the end. */
  sha256: Promise<string>;
}

/**
 * `size` pseudo-random bytes in fresh chunks of `chunkSize`, produced as they are pulled. With `failAfter`, the stream
 * errors once that many bytes have been produced (a source failing mid-transfer).
 */
export function generatedStream(size: number, options: { chunkSize?: number; seed?: number; failAfter?: number } = {}): Generated {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  let state = (options.seed ?? 1) >>> 0 || 1;
  let produced = 0;
  const hash = createHash("sha256");
  let done!: (hex: string) => void;
  const sha256 = new Promise<string>((resolve) => (done = resolve));
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (options.failAfter !== undefined && produced >= options.failAfter) {
        controller.error(new Error(`source failed after ${produced} bytes`));
        return;
      }
      if (produced >= size) {
        controller.close();
        done(hash.digest("hex"));
        return;
      }
      const length = Math.min(chunkSize, size - produced);
      const words = new Uint32Array(Math.ceil(length / 4));
      for (let i = 0; i < words.length; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        words[i] = state >>> 0;
      }
      const chunk = new Uint8Array(words.buffer, 0, length);
      hash.update(chunk);
      produced += length;
      controller.enqueue(chunk);
    },
  });
  return { stream, sha256 };
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
