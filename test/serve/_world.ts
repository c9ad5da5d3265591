import nodeFs from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fsDriver from "../../src/drivers/fs/index.ts";
import s3Driver from "../../src/drivers/s3/index.ts";
import { createQueuedStorage, transferAndDelete, type QueuedStorage, type QueuedStorageOptions } from "../../src/index.ts";
import type { S3rverHandle } from "../support/s3rver.ts";
import { vi } from "vitest";

/** Bytes served by s3rver to our driver, counted on the response bodies (what a ranged read really transferred). */
export interface CountingFetch {
  fetch: typeof fetch;
  /** Body bytes of GetObject answers since the last reset. */
  received(): number;
  /** `Range` headers the driver sent. */
  ranges: string[];
  reset(): void;
}

export function countingFetch(): CountingFetch {
  let received = 0;
  const ranges: string[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const range = new Headers(init?.headers).get("range");
    if (range) ranges.push(range);
    const response = await fetch(input, init);
    if (!response.body || (init?.method ?? "GET") !== "GET") return response;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          received += chunk.byteLength;
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return { fetch: wrapped, received: () => received, ranges, reset: () => ((received = 0), (ranges.length = 0)) };
}

export interface ServeWorld {
  storage: QueuedStorage;
  counting: CountingFetch;
  dir: string;
  dispose(): Promise<void>;
}

/** A delayed queued storage: fs local in a temp directory, our S3 driver over s3rver (with a unique base) remote. */
export async function serveWorld(s3: S3rverHandle, extra: Partial<QueuedStorageOptions> = {}): Promise<ServeWorld> {
  const dir = await mkdtemp(join(tmpdir(), "queued-storage-serve-"));
  const counting = countingFetch();
  const { endpoint, bucket, region, accessKeyId, secretAccessKey } = s3;
  const base = `serve-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const storage = createQueuedStorage({
    local: fsDriver({ base: join(dir, "local") }),
    remote: s3Driver({ endpoint, bucket, region, accessKeyId, secretAccessKey, base, fetch: counting.fetch }),
    delayed: true,
    task: transferAndDelete,
    localUrl: "/files/",
    ...extra,
  });
  return {
    storage,
    counting,
    dir,
    async dispose() {
      await storage.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Deterministic bytes: byte i is (i * 31 + 7) mod 251, so any slice is recognisable. */
export function pattern(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) % 251;
  return bytes;
}

export const get = (handler: (r: Request) => Promise<Response>, path: string, init?: RequestInit): Promise<Response> =>
  handler(new Request(`http://app.test${path}`, init));

export async function bytesOf(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

/** Same bytes? Compared without printing megabytes when they differ: the lengths and the first differing offset. */
export function sameBytes(actual: Uint8Array, expected: Uint8Array): string {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  const at = actual.findIndex((byte, i) => byte !== expected[i]);
  return at === -1 ? "same" : `first difference at byte ${at}`;
}

/**
 * Counts the bytes this process reads from files until `restore()` (what a server here read from disk): reads through
 * FileHandles and through `fs.read` on descriptors (the fs driver reads so), whose named ESM export is re-synced.
 */
export async function countFileReads(): Promise<{ bytes(): number; restore(): void }> {
  const probe = await open(import.meta.filename, "r");
  const proto = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<{ bytesRead: number }> };
  await probe.close();
  let read = 0;
  const original = proto.read;
  const handleSpy = vi.spyOn(proto, "read").mockImplementation(async function (this: unknown, ...args: unknown[]) {
    const result = await original.apply(this, args);
    read += result.bytesRead;
    return result;
  });
  const originalRead = nodeFs.read;
  const fdSpy = vi.spyOn(nodeFs, "read").mockImplementation(((...args: unknown[]) => {
    const callback = args.pop() as (error: Error | null, bytesRead: number, buffer: unknown) => void;
    return (originalRead as (...a: unknown[]) => void)(...args, (error: Error | null, bytesRead: number, buffer: unknown) => {
      if (!error) read += bytesRead;
      callback(error, bytesRead, buffer);
    });
  }) as typeof nodeFs.read);
  syncBuiltinESMExports();
  return {
    bytes: () => read,
    restore: () => {
      handleSpy.mockRestore();
      fdSpy.mockRestore();
      syncBuiltinESMExports();
    },
  };
}
