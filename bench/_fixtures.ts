import { execFileSync } from "node:child_process";
import { mkdir, open, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { S3DriverOptions } from "../src/drivers/s3/index.ts";
import { startS3rver, type S3rverHandle } from "../test/support/s3rver.ts";

export type { S3rverHandle };
export { startS3rver };

/** Connection options of our S3 driver for an s3rver stand-in (optionally through another endpoint, a proxy). */
export function s3Options(server: S3rverHandle, extra: Partial<S3DriverOptions> = {}): S3DriverOptions {
  return {
    endpoint: server.endpoint,
    bucket: server.bucket,
    region: server.region,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    ...extra,
  };
}

/** Bytes that are not all equal (so nothing along the way can shortcut them), made without holding the file. */
export function patternChunk(size: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 10)) & 0xff;
  return bytes;
}

/** Write a file of `size` bytes in 8 MiB chunks, fsynced, so it sits in the page cache but is not dirty. */
export async function makeFile(path: string, size: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const chunk = patternChunk(8 * 1024 * 1024, 1);
  const handle = await open(path, "w");
  try {
    for (let written = 0; written < size; ) {
      const length = Math.min(chunk.byteLength, size - written);
      await handle.write(chunk, 0, length);
      written += length;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flush dirty pages of every file system, so one measurement's write-back does not land in the next one. */
export function flushDisks(): void {
  try {
    execFileSync("sync");
  } catch {
    // no `sync` binary (Windows): measurements are a little noisier
  }
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/** A fetch that counts the requests it sends (by method), for "requests per operation". */
export function countingFetch(): { fetch: typeof fetch; count(): number; reset(): void } {
  let requests = 0;
  return {
    fetch: ((input: string | URL | Request, init?: RequestInit) => {
      requests++;
      return fetch(input, init);
    }) as typeof fetch,
    count: () => requests,
    reset: () => void (requests = 0),
  };
}

/** CPU seconds (user + system) another process has used so far, from /proc (Linux); `null` elsewhere. */
export async function cpuSecondsOf(pid: number): Promise<number | null> {
  try {
    const { readFile } = await import("node:fs/promises");
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat (1-based), i.e. 11 and 12 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}
