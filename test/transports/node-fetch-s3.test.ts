// The S3 driver over createNodeFetch, against s3rver (SigV4 and payload hashes verified): the whole unstorage contract,
// multipart uploads of streams and of fs files, ranges, and a connection reset retried like any network error.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fsDriver from "../../src/drivers/fs/index.ts";
import s3Driver, { type S3DriverOptions } from "../../src/drivers/s3/index.ts";
import { createNodeFetch } from "../../src/transports/node-fetch.ts";
import { MiB, digestStream, generatedStream } from "../drivers/_streams.ts";
import { startHeaderLogProxy } from "../support/header-log-proxy.ts";
import { standInOptions, startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { testDriver } from "../support/unstorage-test-driver.ts";

let server: S3rverHandle;
beforeAll(async () => {
  server = await startS3rver();
});
afterAll(async () => {
  await server?.stop();
});

/** Counts the requests the transport sends, so a test can tell that the driver really went through it. */
function counted(): { fetch: typeof fetch; requests(): number } {
  const transport = createNodeFetch();
  let requests = 0;
  return { fetch: ((input, init) => (requests++, transport(input, init))) as typeof fetch, requests: () => requests };
}

/** The driver's options for the stand-in, over createNodeFetch unless `extra` says otherwise. */
const connection = (extra: Partial<S3DriverOptions> = {}): S3DriverOptions => standInOptions(server, { fetch: createNodeFetch(), ...extra });

describe("transports: the S3 driver over createNodeFetch — unstorage contract against s3rver", () => {
  testDriver({ driver: () => s3Driver(connection({ base: "node-fetch-contract" })) });
});

describe("transports: the S3 driver over createNodeFetch — large values", () => {
  it("uploads a 21 MiB stream in parts and an fs file, both read back byte-identical, whole and by range", async () => {
    const transport = counted();
    const driver = s3Driver(connection({ base: "node-fetch-large", fetch: transport.fetch }));
    const source = generatedStream(21 * MiB + 5, { seed: 3 });
    await driver.setItemRaw!("stream.bin", source.stream, {});
    // Create, three parts, complete: the driver's requests all went through the transport.
    expect(transport.requests()).toBe(5);
    const read = await digestStream((await driver.getItemRaw!("stream.bin", { type: "stream" })) as ReadableStream<Uint8Array>);
    expect(read).toEqual({ size: 21 * MiB + 5, sha256: await source.sha256 });

    const dir = await mkdtemp(join(tmpdir(), "queued-storage-node-fetch-"));
    try {
      const local = fsDriver({ base: dir });
      const file = generatedStream(9 * MiB, { seed: 4, bytes: true });
      await local.setItemRaw!("file.bin", file.stream, {});
      await driver.setItemRaw!("file.bin", await local.getItemRaw!("file.bin", { type: "stream" }), {});
      const back = await digestStream((await driver.getItemRaw!("file.bin", { type: "stream" })) as ReadableStream<Uint8Array>);
      expect(back).toEqual({ size: 9 * MiB, sha256: await file.sha256 });
      const range = (await driver.getItemRaw!("file.bin", { range: { offset: 8 * MiB, length: 16 } })) as Uint8Array;
      const whole = new Uint8Array((await driver.getItemRaw!("file.bin", {})) as Uint8Array);
      expect([...range]).toEqual([...whole.subarray(8 * MiB, 8 * MiB + 16)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await driver.clear!("", {});
  });
});

describe("transports: the S3 driver over createNodeFetch — network failures", () => {
  let proxy: Server;
  let resets = 0;
  let endpoint: string;
  beforeAll(async () => {
    // A TCP proxy to s3rver that resets the first two connections it gets, as a load balancer dropping them would.
    const target = new URL(server.endpoint);
    proxy = createServer((client: Socket) => {
      if (resets < 2) {
        resets++;
        return void client.resetAndDestroy();
      }
      const upstream = connect(Number(target.port), target.hostname);
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  });
  afterAll(() => {
    proxy?.close();
  });

  it("a reset connection is retried and the write lands; unreachable, it fails naming the operation and key", async () => {
    const driver = s3Driver(connection({ endpoint, base: "node-fetch-reset", retryDelay: 1 }));
    await driver.setItemRaw!("a.bin", new Uint8Array([1, 2, 3]), {});
    expect(resets).toBe(2);
    expect([...((await driver.getItemRaw!("a.bin", {})) as Uint8Array)]).toEqual([1, 2, 3]);

    const nowhere = s3Driver(connection({ endpoint: "http://127.0.0.1:9", retries: 1, retryDelay: 1 }));
    await expect(nowhere.setItemRaw!("b.bin", new Uint8Array([1]), {})).rejects.toThrow(
      /PutObject failed for "b.bin" in bucket "queued-storage-test": fetch failed \(gave up after 2 attempts\)/,
    );
  });
});

describe("transports: the S3 driver's fetch: \"node\" (for JSON configs such as the Nitro module's remote)", () => {
  it("sends the driver's requests over node:http, where the default goes through undici", async () => {
    // Through a proxy to s3rver that keeps the headers it forwards: undici adds its fetch headers (sec-fetch-mode,
    // accept-language), node:http sends only the driver's own.
    const log = await startHeaderLogProxy(server.endpoint);
    try {
      await s3Driver(connection({ endpoint: log.endpoint, fetch: "node" })).setItemRaw!("a.bin", new Uint8Array([1]), {});
      await s3Driver(connection({ endpoint: log.endpoint, fetch: undefined })).setItemRaw!("a.bin", new Uint8Array([1]), {});
      const received = log.requests.map((r) => r.headers);
      expect(received).toHaveLength(2);
      expect(received[0]!["sec-fetch-mode"]).toBeUndefined();
      expect(received[0]!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=/);
      expect(received[1]!["sec-fetch-mode"]).toBe("cors");
    } finally {
      await log.stop();
    }
  });

  it("names the option when it is neither a function nor \"node\", and says what a runtime without node:http lacks", async () => {
    const driver = s3Driver(connection({ fetch: "undici" as "node" }));
    await expect(driver.hasItem("a", {})).rejects.toThrow('Option `fetch` must be a fetch function or "node", got "undici".');
    const process = globalThis.process as { getBuiltinModule?: unknown };
    const lookup = process.getBuiltinModule;
    process.getBuiltinModule = undefined;
    try {
      expect(() => createNodeFetch()).toThrow("createNodeFetch needs node:http and node:https through process.getBuiltinModule");
    } finally {
      process.getBuiltinModule = lookup;
    }
  });
});
