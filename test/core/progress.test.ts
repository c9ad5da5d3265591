import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Driver } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import fsDriver from "../../src/drivers/fs/index.ts";
import { createQueuedStorage, type TransferStatus } from "../../src/index.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A remote that takes its uploads slowly: a pause after each chunk it reads. */
function slowRemote(pauseMs: number): Driver {
  const inner = memoryDriver();
  return {
    ...inner,
    name: "slow",
    flags: { streams: true },
    async setItemRaw(key, value: unknown) {
      if (!(value instanceof ReadableStream)) return inner.setItemRaw!(key, value, {});
      const chunks: Uint8Array[] = [];
      const reader = (value as ReadableStream<Uint8Array>).getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        chunks.push(read.value);
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
      return inner.setItemRaw!(key, Buffer.concat(chunks), {});
    },
  };
}

describe("progress of a long transfer", () => {
  it("status(key) and list() report the bytes read so far and the size while transferring, nothing afterwards", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qs-progress-"));
    dirs.push(dir);
    const storage = createQueuedStorage({ local: fsDriver({ base: dir }), remote: slowRemote(20) });
    const size = 4 * 1024 * 1024;
    await storage.setItemRaw("videos:big.mp4", new Uint8Array(size).fill(7));
    const seen: Array<NonNullable<TransferStatus["progress"]>> = [];
    let listed: TransferStatus | undefined;
    for (let i = 0; i < 400 && (await storage.status("videos:big.mp4"))?.state !== "remote"; i++) {
      const status = await storage.status("videos:big.mp4");
      if (status?.progress) seen.push(status.progress);
      const item = (await storage.list({ state: "transferring" })).items[0]?.[1];
      if (item?.progress) listed ??= item;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await storage.drain();
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.every((p) => p.total === size)).toBe(true);
    expect(seen.some((p) => p.bytes > 0 && p.bytes < size)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.bytes).toBeGreaterThanOrEqual(seen[i - 1]!.bytes);
    expect(listed?.progress?.total).toBe(size);
    expect(await storage.status("videos:big.mp4")).toEqual(expect.not.objectContaining({ progress: expect.anything() }));
    expect((await storage.getItemRaw("videos:big.mp4"))!.byteLength).toBe(size);
    await storage.dispose();
  });
});
