import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createQueuedStorage, transferAndDelete } from "../../src/index.ts";
import fsDriver from "../../src/drivers/fs/index.ts";
import { digestStream, generatedStream, mib, MiB, sampleRss } from "../drivers/_streams.ts";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

describe("transfers stream end to end", () => {
  it("a 256 MiB value goes in as a stream, transfers fs → fs and comes back byte-identical with bounded memory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qs-stream-"));
    dirs.push(dir);
    const remote = fsDriver({ base: join(dir, "remote") });
    const storage = createQueuedStorage({ local: fsDriver({ base: join(dir, "local") }), remote, task: transferAndDelete });
    const source = generatedStream(256 * MiB);
    const rss = sampleRss(10);
    await storage.setItemRaw("videos:big.bin", source.stream);
    await storage.drain();
    const sample = rss.stop();
    console.log(`[transfer] 256 MiB write + transfer: peak RSS growth ${mib(sample.growth)}`);
    expect((await storage.status("videos:big.bin"))?.state).toBe("remote");
    expect(await storage.getMeta("videos:big.bin")).toMatchObject({ tier: "remote", size: 256 * MiB });
    const back = await digestStream((await storage.getItemRaw("videos:big.bin", { type: "stream" })) as ReadableStream<Uint8Array>);
    expect(back).toEqual({ size: 256 * MiB, sha256: await source.sha256 });
    // Buffering the value anywhere would cost at least 256 MiB.
    expect(sample.growth).toBeLessThan(64 * MiB);
    await storage.dispose();
  }, 120_000);
});
