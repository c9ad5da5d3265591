// Moves 256 MiB through each driver as streams (generated as pulled, never one buffer) and records the peak RSS
// growth of this process, sampled every 20 ms. s3rver runs in its own process, so only the driver's side counts.
//
// Each measurement follows a 16 MiB warm-up through the same path and driver. The warm-up pays what does not depend
// on the size: loading code (Node loads its fetch on first use), the runtime sizing its heaps, the first part buffers.
// Its growth is printed too. The bound asserted is the goal: moving 256 MiB grows RSS by less than 64 MiB.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Driver } from "unstorage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fsDriver from "../../src/drivers/fs/index.ts";
import s3Driver from "../../src/drivers/s3/index.ts";
import { startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { MiB, digestStream, generatedStream, mib, sampleRss, type RssSample } from "./_streams.ts";

const SIZE = 256 * MiB;
const WARM_UP = 16 * MiB;
const LIMIT = 64 * MiB;

let server: S3rverHandle;
let dir: string;
beforeAll(async () => {
  [server, dir] = await Promise.all([startS3rver(), mkdtemp(join(tmpdir(), "queued-storage-mem-"))]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), dir && rm(dir, { recursive: true, force: true })]);
});

const s3 = (): Driver =>
  s3Driver({
    endpoint: server.endpoint,
    bucket: server.bucket,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
  });

/** Runs `move(size)` for the warm-up, then for 256 MiB under the RSS sampler, and prints both. */
async function measure(label: string, move: (size: number) => Promise<void>): Promise<RssSample> {
  const warm = sampleRss();
  await move(WARM_UP);
  const warmUp = warm.stop();
  const rss = sampleRss();
  const started = performance.now();
  await move(SIZE);
  const sample = rss.stop();
  console.log(
    `[memory] ${label}: 256 MiB in ${(performance.now() - started).toFixed(0)} ms, peak RSS growth ${mib(sample.growth)} ` +
      `(baseline ${mib(sample.baseline)}, peak ${mib(sample.peak)}; the 16 MiB warm-up grew RSS by ${mib(warmUp.growth)})`,
  );
  return sample;
}

describe("drivers: memory stays bounded whatever the value size", () => {
  it("fs: a stream written in (fresh chunks), then read out as a stream", { timeout: 60_000 }, async () => {
    const driver = fsDriver({ base: join(dir, "fs") });
    const sample = await measure("fs write + streamed read", async (size) => {
      const source = generatedStream(size, { seed: size });
      await driver.setItemRaw!("big.bin", source.stream, {});
      const read = await digestStream((await driver.getItemRaw!("big.bin", { type: "stream" })) as ReadableStream<Uint8Array>);
      expect(read).toEqual({ size, sha256: await source.sha256 });
    });
    expect(sample.growth).toBeLessThan(LIMIT);
  });

  it("s3: a byte stream uploaded as multipart (default 8 MiB × 4 parts), read straight into the parts", { timeout: 60_000 }, async () => {
    const driver = s3();
    const sample = await measure("s3 multipart upload, byte-stream source", async (size) => {
      await driver.setItemRaw!(`up-${size}.bin`, generatedStream(size, { seed: size, bytes: true }).stream, {});
      expect((await driver.getMeta!(`up-${size}.bin`, {}))?.size).toBe(size);
    });
    expect(sample.growth).toBeLessThan(LIMIT);
  });

  // A source that allocates every chunk leaves garbage that V8 frees late (its external-memory trigger is 64 MiB),
  // so RSS carries up to a few tens of MiB of dead chunks on top of the part buffers. Bounded all the same: the
  // bound is the part buffers plus the goal, far below the 256 MiB a buffering upload would hold.
  it("s3: a stream of fresh chunks uploaded as multipart stays within the part buffers + 64 MiB", { timeout: 60_000 }, async () => {
    const driver = s3();
    const sample = await measure("s3 multipart upload, fresh-chunk source", async (size) => {
      await driver.setItemRaw!(`chunks-${size}.bin`, generatedStream(size, { seed: size }).stream, {});
      expect((await driver.getMeta!(`chunks-${size}.bin`, {}))?.size).toBe(size);
    });
    expect(sample.growth).toBeLessThan(4 * 8 * MiB + LIMIT);
  });

  it("s3: an object read back as a stream", { timeout: 60_000 }, async () => {
    const driver = s3();
    const expected = new Map<number, string>();
    for (const size of [WARM_UP, SIZE]) {
      const source = generatedStream(size, { seed: 11, bytes: true });
      await driver.setItemRaw!(`down-${size}.bin`, source.stream, {});
      expected.set(size, await source.sha256);
    }
    const sample = await measure("s3 streamed download", async (size) => {
      const read = await digestStream((await driver.getItemRaw!(`down-${size}.bin`, { type: "stream" })) as ReadableStream<Uint8Array>);
      expect(read).toEqual({ size, sha256: expected.get(size) });
    });
    expect(sample.growth).toBeLessThan(LIMIT);
  });

  it("fs → s3: a file streamed into a multipart upload, as a transfer does", { timeout: 60_000 }, async () => {
    const local = fsDriver({ base: join(dir, "transfer") });
    const remote = s3();
    for (const size of [WARM_UP, SIZE]) await local.setItemRaw!(`file-${size}.bin`, generatedStream(size, { bytes: true }).stream, {});
    const sample = await measure("fs → s3 transfer", async (size) => {
      await remote.setItemRaw!(`copy-${size}.bin`, await local.getItemRaw!(`file-${size}.bin`, { type: "stream" }), {});
      expect((await remote.getMeta!(`copy-${size}.bin`, {}))?.size).toBe(size);
    });
    expect(sample.growth).toBeLessThan(LIMIT);
  });
});
