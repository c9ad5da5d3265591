import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import memory from "unstorage/drivers/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createQueuedStorage, transferAndDelete, type QueuedStorage } from "../../src/index.ts";
import fsDriver from "../../src/drivers/fs/index.ts";
import { createTransferHandler, qstashQueue } from "../../src/queues/qstash.ts";
import { upstashFlags } from "../../src/flags/upstash.ts";
import s3Driver from "../../src/drivers/s3/index.ts";
import { startS3rver } from "../support/s3rver.ts";
import { serveWebhook, type Webhook } from "../support/_qstash-webhook.ts";
import { startQStash, type QStashStandIn } from "../support/qstash-server.ts";
import { randomPrefix, redisDeleteMatching, requireRedis } from "../support/redis.ts";
import { startUpstashProxy, type UpstashProxy } from "../support/upstash-proxy.ts";

// The production wiring over loopback HTTP: upstashFlags → Upstash proxy → real Redis, qstashQueue → QStash
// stand-in → signed webhook → createTransferHandler. Round trips counted from the stand-ins' request logs.
let proxy: UpstashProxy;
let qstash: QStashStandIn;
let hook: Webhook;
let storage: QueuedStorage;
let dir: string;
const prefix = randomPrefix("budget");
const budget: Record<string, number> = {};

beforeAll(async () => {
  await requireRedis();
  proxy = await startUpstashProxy();
  qstash = await startQStash();
  let handler: ((request: Request) => Promise<Response>) | undefined;
  hook = await serveWebhook((request) => handler!(request));
  dir = await mkdtemp(join(tmpdir(), "qs-budget-"));
  const url = `${hook.origin}/api/transfer`;
  storage = createQueuedStorage({
    local: fsDriver({ base: join(dir, "local") }),
    remote: fsDriver({ base: join(dir, "remote") }),
    flags: upstashFlags({ redis: new Redis({ url: proxy.url, token: proxy.token, enableTelemetry: false }), prefix }),
    queue: qstashQueue({ client: new Client({ baseUrl: qstash.url, token: qstash.token, enableTelemetry: false, retry: false }), url }),
    task: transferAndDelete,
  });
  handler = createTransferHandler(storage, { currentSigningKey: qstash.currentSigningKey, nextSigningKey: qstash.nextSigningKey, url });
});

afterAll(async () => {
  console.log(`[budget] round trips: ${JSON.stringify(budget)}`);
  await storage?.dispose();
  await Promise.all([proxy?.stop(), qstash?.stop(), hook?.stop()]);
  await redisDeleteMatching(`${prefix}:*`);
  await rm(dir, { recursive: true, force: true });
});

/** Redis HTTP requests made while `fn` runs (the proxy's log), excluding a cold script cache's one EVAL retry. */
async function redisRequests(fn: () => Promise<unknown>): Promise<number> {
  proxy.resetLog();
  await fn();
  return proxy.requests.filter((r) => !r.commands.some((c) => String(c[0]).toLowerCase() === "eval")).length;
}

describe("round-trip budget of the production path", () => {
  it("a write costs one Redis round trip plus one QStash publish; a read one Redis round trip; a transfer at most three", async () => {
    await storage.status("warm-up"); // loads the script once (EVALSHA → NOSCRIPT → EVAL), as any first call would
    qstash.pause();
    const published = qstash.published.length;
    budget.write = await redisRequests(() => storage.setItemRaw("photos:1.jpg", new Uint8Array(2048).fill(1)));
    budget.publishPerWrite = qstash.published.length - published;
    budget.readLocal = await redisRequests(() => storage.getItemRaw("photos:1.jpg"));
    let delivered = 0;
    budget.transfer = await redisRequests(async () => {
      qstash.resume();
      await qstash.idle();
      delivered = qstash.deliveries.filter((d) => d.status === 200).length;
    });
    expect(delivered).toBe(1);
    expect(await storage.status("photos:1.jpg")).toMatchObject({ state: "remote" });
    budget.readRemote = await redisRequests(() => storage.getItemRaw("photos:1.jpg"));
    expect(budget).toEqual({ write: 1, publishPerWrite: 1, readLocal: 1, transfer: 3, readRemote: 1 });
  });

  it("a plain transfer job (no local delete) costs two Redis round trips; transferNow one more to find the generation", async () => {
    const plain = createQueuedStorage({
      local: fsDriver({ base: join(dir, "local") }),
      remote: fsDriver({ base: join(dir, "remote") }),
      flags: upstashFlags({ redis: new Redis({ url: proxy.url, token: proxy.token, enableTelemetry: false }), prefix }),
      delayed: true,
    });
    await plain.setItem("plain", "v");
    const { generation } = (await plain.status("plain"))!;
    budget.transferPlain = await redisRequests(async () => expect(await plain.handle({ key: "plain", generation })).toBe("transferred"));
    expect(budget.transferPlain).toBe(2);
    await plain.setItem("plain", "v2");
    budget.transferNow = await redisRequests(async () => expect(await plain.transferNow("plain")).toBe("transferred"));
    expect(budget.transferNow).toBe(3);
    await plain.dispose();
  });

  it("on the S3 driver, conditional writes keep the Redis budget; a new key's transfer is one conditional PutObject, an overwrite's a HeadObject first", async () => {
    const s3 = await startS3rver({ bucket: "budget" });
    try {
      const operations: string[] = [];
      const counting = (async (input: string | URL | Request, init?: RequestInit) => {
        const url = new URL(String(input));
        const method = init?.method ?? "GET";
        operations.push(method === "PUT" ? (url.searchParams.has("uploadId") ? "UploadPart" : "PutObject") : method === "HEAD" ? "HeadObject" : method);
        return fetch(input, init);
      }) as typeof fetch;
      const connection = { endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, fetch: counting };
      const fenced = s3Driver(connection);
      // The baseline, measured in the same run: the same driver with conditional writes hidden from the transfer.
      const unfenced = { ...s3Driver({ ...connection, base: "unfenced" }), flags: { maxDepth: true, streams: true } };
      const measure = async (remote: typeof fenced, key: string) => {
        const writer = createQueuedStorage({
          local: fsDriver({ base: join(dir, "local-s3") }),
          remote,
          flags: upstashFlags({ redis: new Redis({ url: proxy.url, token: proxy.token, enableTelemetry: false }), prefix }),
          task: transferAndDelete,
          delayed: true,
        });
        const counts: Record<string, number | string[]> = {};
        operations.length = 0;
        counts.writeRedis = await redisRequests(() => writer.setItemRaw(key, new Uint8Array(4096).fill(7)));
        counts.writeS3 = operations.length;
        const { generation } = (await writer.status(key))!;
        operations.length = 0;
        counts.transferRedis = await redisRequests(async () => expect(await writer.handle({ key, generation })).toBe("transferred"));
        counts.transferS3 = [...operations];
        operations.length = 0;
        counts.readRedis = await redisRequests(() => writer.getItemRaw(key));
        counts.readS3 = operations.length;
        // An overwrite: the remote holds the previous generation now.
        await writer.setItemRaw(key, new Uint8Array(4096).fill(8));
        const next = (await writer.status(key))!.generation;
        operations.length = 0;
        counts.overwriteRedis = await redisRequests(async () => expect(await writer.handle({ key, generation: next })).toBe("transferred"));
        counts.overwriteS3 = [...operations];
        await writer.dispose();
        return counts;
      };
      const withFencing = await measure(fenced, "s3:fenced.bin");
      const baseline = await measure(unfenced, "s3:baseline.bin");
      budget.s3TransferRequests = (withFencing.transferS3 as string[]).length;
      budget.s3TransferRequestsBaseline = (baseline.transferS3 as string[]).length;
      // Without conditional writes, transferAndDelete asks the remote whether it kept the value (a HeadObject) before
      // the local copy goes; with them, the conditional commit answers for itself. A new key's commit is "only if
      // absent" at once; an overwrite first asks which generation (and ETag) the remote holds, then commits over it.
      const same = { writeRedis: 1, writeS3: 0, transferRedis: 3, readRedis: 1, readS3: 1, overwriteRedis: 3 };
      expect(baseline).toEqual({ ...same, transferS3: ["PutObject", "HeadObject"], overwriteS3: ["PutObject", "HeadObject"] });
      expect(withFencing).toEqual({ ...same, transferS3: ["PutObject"], overwriteS3: ["HeadObject", "PutObject"] });
    } finally {
      await s3.stop();
    }
  }, 60_000);

  it("state requests per write stay constant under 50 concurrent writers", async () => {
    qstash.pause();
    const requests = await redisRequests(() =>
      Promise.all(Array.from({ length: 50 }, (_, i) => storage.setItem(`burst:${i}`, `v${i}`))),
    );
    // Auto-pipelining may merge requests; it never adds any.
    expect(requests).toBeLessThanOrEqual(50);
    budget.burst50Writes = requests;
    qstash.resume();
    await qstash.idle();
    for (let i = 0; i < 50; i++) expect(await storage.getItem(`burst:${i}`)).toBe(`v${i}`);
  });

  it("when Redis fails during a write, the write rejects naming the key and the cause, nothing stored is lost, sync() repairs", async () => {
    await storage.setItem("doc", "v1");
    await qstash.idle();
    expect(await storage.status("doc")).toMatchObject({ state: "remote" });
    proxy.failNext(1, 503);
    await expect(storage.setItem("doc", "v2")).rejects.toThrow(/cannot write "doc": recording its transfer intent failed: .*503|injected/);
    // Intent could not be recorded, so the bytes were never written: v1 is still what everyone reads.
    expect(await storage.getItem("doc")).toBe("v1");
    // Redis fails after the intent was recorded (the publish happens, the webhook's claim fails): QStash retries.
    qstash.pause();
    await storage.setItem("doc", "v3");
    proxy.failNext(1, 503);
    qstash.resume();
    await qstash.idle();
    expect(await storage.getItem("doc")).toBe("v3");
    expect(await storage.status("doc")).toMatchObject({ state: "remote" });
    const report = await storage.sync();
    expect(report).toEqual({ queued: 0, removed: 0, waiting: 0, dropped: 0 });
  });

  it("when QStash cannot be reached, the write rejects saying the value is stored; sync() queues it again", async () => {
    const deadQueue = qstashQueue({
      client: new Client({ baseUrl: "http://127.0.0.1:9", token: "t", enableTelemetry: false, retry: false }),
      url: `${hook.origin}/api/transfer`,
    });
    const writer = createQueuedStorage({
      local: fsDriver({ base: join(dir, "local") }),
      remote: fsDriver({ base: join(dir, "remote") }),
      flags: upstashFlags({ redis: new Redis({ url: proxy.url, token: proxy.token, enableTelemetry: false }), prefix }),
      queue: deadQueue,
    });
    await expect(writer.setItem("lost-publish", "kept")).rejects.toThrow(/"lost-publish" is stored locally but queuing its transfer failed: .*sync\(\) will queue it again/);
    expect(await storage.getItem("lost-publish")).toBe("kept");
    expect(await storage.status("lost-publish")).toMatchObject({ state: "queued" });
    expect((await storage.sync()).queued).toBeGreaterThanOrEqual(1);
    await qstash.idle();
    expect(await storage.status("lost-publish")).toMatchObject({ state: "remote" });
    expect(await storage.getItem("lost-publish")).toBe("kept");
    await writer.dispose();
  });
});
