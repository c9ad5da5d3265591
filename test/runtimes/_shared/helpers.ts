import type { Driver } from "unstorage";
import type { TransferJob, TransferQueue } from "../../../src/index.ts";
import { toBytes } from "./assert.ts";

/** Deterministic pseudo-random bytes (xorshift), so every runtime compares against the same content. */
export function bytesOf(length: number, seed: number = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** A ReadableStream of `bytes` in chunks of `chunk` bytes, with no known length. */
export function streamOf(bytes: Uint8Array, chunk: number = 64 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

/** A queue that only records jobs, the way QStash holds them until it calls the webhook. */
export function captureQueue(): TransferQueue & { jobs: TransferJob[] } {
  const jobs: TransferJob[] = [];
  return {
    name: "capture",
    jobs,
    async enqueue(job) {
      jobs.push({ key: job.key, generation: job.generation });
    },
  };
}

/** The text a driver holds for `key`, whatever raw form it keeps it in (the memory driver keeps transferred bytes). */
export async function textIn(driver: Driver, key: string): Promise<string | null> {
  const value = driver.getItemRaw ? await driver.getItemRaw(key, {}) : await driver.getItem(key, {});
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  const bytes = await toBytes(value);
  return bytes && new TextDecoder().decode(bytes);
}
