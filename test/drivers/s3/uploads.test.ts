// What an upload costs in requests and buffers: small values are one PutObject of exactly their size, known lengths
// up to the threshold never go multipart, and nothing part-sized is allocated for a small value. Requests are
// counted through the driver's `fetch` option against the real s3rver stand-in (verified SigV4 and payload hashes).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import memoryDriver from "unstorage/drivers/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fsDriver from "../../../src/drivers/fs/index.ts";
import s3Driver, { type S3DriverOptions } from "../../../src/drivers/s3/index.ts";
import { knownLength, knownMtime, withKnownLength } from "../../../src/_streams.ts";
import { createQueuedStorage, memoryQueue } from "../../../src/index.ts";
import { startS3rver, type S3rverHandle } from "../../support/s3rver.ts";
import { MiB, digestStream, generatedStream } from "../_streams.ts";

const KiB = 1024;
let server: S3rverHandle;
let dir: string;
beforeAll(async () => {
  [server, dir] = await Promise.all([startS3rver(), mkdtemp(join(tmpdir(), "queued-storage-s3-uploads-"))]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), dir && rm(dir, { recursive: true, force: true })]);
});

interface Sent {
  method: string;
  query: string;
  contentLength: number | undefined;
  body: unknown;
  /** `if-none-match <value>`, `if-match` or empty. */
  condition: string;
}

/** The driver's connection to the stand-in, with a fetch that records every request it sends. */
function recorded(extra: Partial<S3DriverOptions> = {}): { options: S3DriverOptions; sent: Sent[] } {
  const sent: Sent[] = [];
  const options: S3DriverOptions = {
    endpoint: server.endpoint,
    bucket: server.bucket,
    region: server.region,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      const body = init?.body;
      const length = headers.get("content-length") ?? (body instanceof Uint8Array ? String(body.byteLength) : undefined);
      const condition = headers.get("if-none-match") ? `if-none-match ${headers.get("if-none-match")}` : headers.get("if-match") ? "if-match" : "";
      sent.push({ method: init?.method ?? "GET", query: new URL(String(input)).search, contentLength: length === undefined ? undefined : Number(length), body, condition });
      return fetch(input, init);
    },
    ...extra,
  };
  return { options, sent };
}

/** A byte stream of `size` bytes that records the size of every buffer its reader offers (BYOB). */
function offeredBuffers(size: number): { stream: ReadableStream<Uint8Array>; offered: number[] } {
  const offered: number[] = [];
  let produced = 0;
  const stream = new ReadableStream({
    type: "bytes",
    pull(controller) {
      const request = controller.byobRequest!;
      const view = request.view as Uint8Array;
      offered.push(view.buffer.byteLength);
      if (produced >= size) {
        controller.close();
        request.respond(0);
        return;
      }
      const n = Math.min(view.byteLength, size - produced, 64 * KiB);
      view.fill(7, 0, n);
      produced += n;
      request.respond(n);
    },
  }) as ReadableStream<Uint8Array>;
  return { stream, offered };
}

describe("drivers: s3 — small values without waste", () => {
  it("a 16 KiB local file transferred by queued-storage is exactly one PutObject with Content-Length 16384", async () => {
    const { options, sent } = recorded({ base: "transfer" });
    const storage = createQueuedStorage({
      local: fsDriver({ base: join(dir, "local") }),
      remote: s3Driver(options),
      queue: memoryQueue(),
      delayed: true,
    });
    const value = new Uint8Array(16 * KiB).map((_, i) => i % 251);
    await storage.setItemRaw("docs:a.bin", value);
    await storage.transfer("docs:a.bin");
    await storage.drain();
    expect((await storage.status("docs:a.bin"))?.state).toBe("remote");
    // A new key: no HeadObject first, the commit itself is conditional (only if absent), with the generation.
    expect(sent.map((s) => `${s.method} ${s.query} ${s.contentLength} ${s.condition}`)).toEqual(["PUT  16384 if-none-match *"]);
    const stored = (await s3Driver({ ...options, fetch: undefined }).getItemRaw!("docs:a.bin", {})) as Uint8Array;
    expect(stored).toEqual(value);
    // An overwrite looks first (which generation is there, and its ETag), then commits over exactly that object.
    sent.length = 0;
    await storage.setItemRaw("docs:a.bin", value.map((b) => b ^ 1));
    await storage.transfer("docs:a.bin");
    await storage.drain();
    expect(sent.map((s) => `${s.method} ${s.query} ${s.contentLength} ${s.condition}`)).toEqual(["HEAD  undefined ", "PUT  16384 if-match"]);
    await storage.dispose();
  });

  it("a key new to the flags but already on the remote: the only-if-absent commit gets 412, then the checked copy overwrites it", async () => {
    const { options, sent } = recorded({ base: "fresh-but-there" });
    await s3Driver({ ...options, fetch: undefined }).setItemRaw!("docs:b.bin", new Uint8Array([1, 2, 3]), {});
    const storage = createQueuedStorage({ local: fsDriver({ base: join(dir, "local-fresh") }), remote: s3Driver(options), delayed: true });
    const value = new Uint8Array(16 * KiB).fill(8);
    await storage.setItemRaw("docs:b.bin", value);
    await storage.transfer("docs:b.bin");
    await storage.drain();
    const status = await storage.status("docs:b.bin");
    expect(status).toMatchObject({ state: "remote", attempts: 1 });
    expect(sent.map((s) => `${s.method} ${s.condition}`)).toEqual(["PUT if-none-match *", "HEAD ", "PUT if-match"]);
    const remote = s3Driver({ ...options, fetch: undefined });
    expect((await remote.getItemRaw!("docs:b.bin", {})) as Uint8Array).toEqual(value);
    expect((await remote.getMeta!("docs:b.bin", {}))?.generation).toBe(String(status!.generation));
    await storage.dispose();
  });

  it("from a local driver that keeps bytes (memory), a transfer is one PUT of the exact length, the bytes uncopied", async () => {
    const { options, sent } = recorded({ base: "from-memory" });
    const storage = createQueuedStorage({ local: memoryDriver(), remote: s3Driver(options), delayed: true });
    const value = new Uint8Array(16 * KiB).fill(5);
    await storage.setItemRaw("m.bin", value);
    await storage.transfer("m.bin");
    await storage.drain();
    expect(sent.map((s) => `${s.method} ${s.query} ${s.contentLength}`)).toEqual(["PUT  16384"]); // a new key: no HeadObject (see above)
    expect(sent[0]!.body).toBe(value);
    await storage.dispose();
  });

  it("the fs driver reads a small file in one call: a stream of one chunk, marked with the file's length", async () => {
    const fs = fsDriver({ base: join(dir, "fs-small") });
    await fs.setItemRaw!("a.bin", new Uint8Array(16 * KiB).fill(3), {});
    const stream = (await fs.getItemRaw!("a.bin", { type: "stream" })) as ReadableStream<Uint8Array>;
    expect(knownLength(stream)).toBe(16 * KiB);
    // and with the mtime of the file it reads (the file handler's Last-Modified without a stat)
    expect(knownMtime(stream)?.getTime()).toBe(((await fs.getMeta!("a.bin", {}))!.mtime as Date).getTime());
    const reader = stream.getReader();
    const first = await reader.read();
    expect(first.value?.byteLength).toBe(16 * KiB);
    expect((await reader.read()).done).toBe(true);
    // Large files stay streams read as pulled, with their length known all the same.
    await fs.setItemRaw!("big.bin", generatedStream(3 * MiB, { seed: 2 }).stream, {});
    const big = (await fs.getItemRaw!("big.bin", { type: "stream" })) as ReadableStream<Uint8Array>;
    expect(knownLength(big)).toBe(3 * MiB);
    expect(knownMtime(big)?.getTime()).toBe(((await fs.getMeta!("big.bin", {}))!.mtime as Date).getTime());
    const chunk = await big.getReader().read();
    expect(chunk.value!.byteLength).toBeLessThanOrEqual(64 * KiB);
    await fs.dispose?.();
  });

  it("the chunk of a known-length stream is sent as it is: no copy, one PUT", async () => {
    const { options, sent } = recorded({ base: "zero-copy" });
    const chunk = new Uint8Array(16 * KiB).fill(9);
    const stream = withKnownLength(new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(chunk), c.close()) }), chunk.byteLength);
    await s3Driver(options).setItemRaw!("a.bin", stream, {});
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toBe(chunk);
  });

  it("a known-length stream up to multipartThreshold goes as one PUT into a buffer of exactly its size, never multipart", async () => {
    const { options, sent } = recorded({ base: "known" });
    const driver = s3Driver(options);
    // (up to 256 KiB a known-length stream is read as it comes, chunk by chunk: see the zero-copy test above)
    for (const size of [300 * KiB, 3 * MiB + 5, 8 * MiB]) {
      const source = offeredBuffers(size);
      await driver.setItemRaw!(`v-${size}.bin`, withKnownLength(source.stream, size), {});
      // Every buffer offered is the value's own: nothing part-sized, nothing larger than the value.
      // (and one byte, to see the end)
      expect(source.offered.filter((n) => n !== size && n !== 1), `buffers offered for ${size} bytes`).toEqual([]);
    }
    expect(sent.map((s) => `${s.method}${s.query} ${s.contentLength}`)).toEqual([
      `PUT ${300 * KiB}`,
      `PUT ${3 * MiB + 5}`,
      `PUT ${8 * MiB}`,
    ]);
    expect((await driver.getMeta!(`v-${3 * MiB + 5}.bin`, {}))?.size).toBe(3 * MiB + 5);
  });

  it("a file from the fs driver between the one-read size and the threshold goes as one PUT of its exact length", async () => {
    const fs = fsDriver({ base: join(dir, "fs-mid") });
    const source = generatedStream(5 * MiB + 77, { seed: 5 });
    await fs.setItemRaw!("mid.bin", source.stream, {});
    const { options, sent } = recorded({ base: "mid" });
    const driver = s3Driver(options);
    await driver.setItemRaw!("mid.bin", await fs.getItemRaw!("mid.bin", { type: "stream" }), {});
    expect(sent.map((s) => `${s.method}${s.query} ${s.contentLength}`)).toEqual([`PUT ${5 * MiB + 77}`]);
    const read = await digestStream((await driver.getItemRaw!("mid.bin", { type: "stream" })) as ReadableStream<Uint8Array>);
    expect(read).toEqual({ size: 5 * MiB + 77, sha256: await source.sha256 });
  });

  it("a stream of unknown length is probed with 64 KiB, never a part-sized buffer, and a small one is one PUT", async () => {
    const { options, sent } = recorded({ base: "probe" });
    const source = offeredBuffers(16 * KiB);
    await s3Driver(options).setItemRaw!("p.bin", source.stream, {});
    expect(Math.max(...source.offered)).toBe(64 * KiB);
    expect(sent.map((s) => `${s.method}${s.query} ${s.contentLength}`)).toEqual([`PUT ${16 * KiB}`]);
  });

  it("a stream whose length is not the one it was marked with fails, naming the key, and stores nothing", async () => {
    const { options, sent } = recorded({ base: "liar" });
    const driver = s3Driver(options);
    const short = withKnownLength(new Blob([new Uint8Array(100)]).stream(), 200);
    await expect(driver.setItemRaw!("short.bin", short, {})).rejects.toThrow(/"liar\/short\.bin".*marked as 200 bytes but ended after 100/);
    const long = withKnownLength(new Blob([new Uint8Array(300)]).stream(), 200);
    await expect(driver.setItemRaw!("long.bin", long, {})).rejects.toThrow(/"liar\/long\.bin".*marked as 200 bytes but went on/);
    expect(sent).toEqual([]);
  });
});
