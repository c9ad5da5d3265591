import { Client } from "@upstash/qstash";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Driver } from "unstorage";
import fsDriver from "unstorage/drivers/fs";
import memory from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import { createQueuedStorage, memoryFlags, type QueuedStorage } from "../../src/index.ts";
import { createTransferHandler, qstashQueue } from "../../src/queues/qstash.ts";
import { serveWebhook, type Webhook } from "../support/_qstash-webhook.ts";
import { signQStashJwt, startQStash, type QStashStandIn } from "../support/qstash-server.ts";

// A writer with a memory local tier and an fs remote, QStash (the stand-in) as the queue, and the transfer webhook
// on a real loopback http server: the production wiring, end to end, with the real Client and Receiver.

interface World {
  storage: QueuedStorage;
  qstash: QStashStandIn;
  hook: Webhook;
  url: string;
  failureUrl: string;
  local: Driver;
  remoteDir: string;
  remote: { failNext(n: number): void; writes: number };
  /** POST a body to the webhook (or `url`) with a signature, as anyone on the internet could. */
  send(body: string, signature: string | undefined, url?: string): Promise<Response>;
  /** A signature as QStash would make it with its current key, for `sub` = `url` unless told otherwise. */
  sign(body: string, options?: { url?: string; key?: string; claims?: Record<string, unknown> }): string;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function world(options: { retries?: number; acknowledge?: "queued" | "stored" } = {}): Promise<World> {
  const qstash = await startQStash();
  let handler: ((request: Request) => Promise<Response>) | undefined;
  const hook = await serveWebhook((request) => handler!(request));
  const url = `${hook.origin}/api/transfer`;
  const remoteDir = await mkdtemp(join(tmpdir(), "queued-storage-qstash-e2e-"));
  const remote = flaky(fsDriver({ base: remoteDir }));
  const local = memory();
  const client = new Client({ baseUrl: qstash.url, token: qstash.token, enableTelemetry: false, retry: false });
  const storage = createQueuedStorage({
    local,
    remote: remote.driver,
    queue: qstashQueue({ client, url, retries: options.retries ?? 3 }),
    flags: memoryFlags(),
    acknowledge: options.acknowledge,
  });
  const keys = { currentSigningKey: qstash.currentSigningKey, nextSigningKey: qstash.nextSigningKey };
  handler = createTransferHandler(storage, { ...keys, url });
  cleanups.push(() => rm(remoteDir, { recursive: true, force: true }), () => qstash.stop(), () => hook.stop());
  cleanups.push(async () => storage.dispose());
  return {
    storage,
    qstash,
    hook,
    url,
    failureUrl: `${url}?queued-storage=failure`,
    local,
    remoteDir,
    remote: remote.control,
    send: (body, signature, to = url) =>
      fetch(to, { method: "POST", body, headers: signature ? { "upstash-signature": signature } : {} }),
    sign: (body, o = {}) => signQStashJwt({ key: o.key ?? qstash.currentSigningKey, url: o.url ?? url, body, claims: o.claims }),
  };
}

/** The remote's fs driver, with writes that fail on demand (the remote is down). */
function flaky(driver: Driver): { driver: Driver; control: { failNext(n: number): void; writes: number } } {
  let failures = 0;
  const control = { failNext: (n: number) => void (failures = n), writes: 0 };
  const guard = (): void => {
    control.writes++;
    if (failures > 0) {
      failures--;
      throw new Error("remote is down (injected)");
    }
  };
  return {
    control,
    driver: {
      ...driver,
      setItem: async (key, value, opts) => (guard(), driver.setItem!(key, value, opts)),
      setItemRaw: async (key, value, opts) => (guard(), driver.setItemRaw!(key, value, opts)),
    },
  };
}

async function remoteFile(w: World, key: string): Promise<string | null> {
  return readFile(join(w.remoteDir, ...key.split(":")), "utf8").catch(() => null);
}

/** The last written value of every key is readable now; once QStash is idle each is `remote` with exactly those bytes. */
async function expectConverged(w: World, expected: Record<string, string | null>): Promise<void> {
  await w.qstash.idle();
  for (const [key, value] of Object.entries(expected)) {
    expect(await w.storage.getItem(key), key).toBe(value);
    expect(await remoteFile(w, key), key).toBe(value);
    if (value === null) expect(await w.storage.status(key), key).toBeNull();
    else expect((await w.storage.status(key))?.state, key).toBe("remote");
  }
}

async function write(w: World, key: string, value: string): Promise<void> {
  await w.storage.setItem(key, value);
  expect(await w.storage.getItem(key)).toBe(value); // readable at once, from the local tier
}

const jobBody = (w: World, index: number): string => w.qstash.published[index]!.body;

describe("QStash end to end: writer → QStash → signed webhook → remote", () => {
  it("happy path: the job is exactly { key, generation }, the webhook transfers it, the remote converges", async () => {
    const w = await world();
    await write(w, "avatars:1.png", "first");
    expect(JSON.parse(jobBody(w, 0))).toEqual({ key: "avatars:1.png", generation: expect.any(Number) });
    expect(Object.keys(JSON.parse(jobBody(w, 0)))).toEqual(["key", "generation"]);
    await expectConverged(w, { "avatars:1.png": "first" });
    expect(w.qstash.deliveries.map((d) => d.status)).toEqual([200]);
    expect(JSON.parse(w.qstash.deliveries[0]!.responseBody)).toEqual({ status: "transferred" });
  });

  it('acknowledge: "stored": 30 concurrent writes share /v2/batch publishes (fewer requests than writes); all converge', async () => {
    const w = await world({ acknowledge: "stored" });
    w.qstash.pause(); // nothing is delivered until every write resolved: the acknowledgement never waited for it
    await Promise.all(Array.from({ length: 30 }, (_, i) => w.storage.setItem(`batch:${i}.txt`, `v${i}`)));
    await w.storage.drain(); // the background publishes
    const published = w.qstash.published.filter((p) => !p.deduplicated);
    expect(published).toHaveLength(30);
    // Publishes in flight at once are capped; the writes that resolved meanwhile went out together.
    const requests = w.qstash.batches.length + (w.qstash.published.length - w.qstash.batches.reduce((a, b) => a + b, 0));
    expect(requests).toBeLessThan(30);
    expect(w.qstash.batches.length).toBeGreaterThan(0);
    w.qstash.resume();
    await w.qstash.idle();
    for (let i = 0; i < 30; i++) expect(await w.storage.status(`batch:${i}.txt`)).toMatchObject({ state: "remote" });
    expect(await readFile(join(w.remoteDir, "batch", "7.txt"), "utf8")).toBe("v7");
  });

  it("duplicate deliveries (a replayed request, a second message of the same job) change nothing", async () => {
    const w = await world();
    await write(w, "doc", "v1");
    await expectConverged(w, { doc: "v1" });
    const delivered = w.hook.received[0]!;
    const replay = await w.send(delivered.body, delivered.headers["upstash-signature"]);
    expect(await replay.json()).toEqual({ status: "already-remote" });
    const writes = w.remote.writes;
    const client = new Client({ baseUrl: w.qstash.url, token: w.qstash.token, enableTelemetry: false, retry: false });
    await Promise.all([1, 2, 3].map(() => client.publishJSON({ url: w.url, body: JSON.parse(delivered.body) })));
    await expectConverged(w, { doc: "v1" });
    expect(w.remote.writes).toBe(writes); // no second upload
    expect(w.qstash.deliveries.slice(1).map((d) => JSON.parse(d.responseBody).status)).toEqual(Array(3).fill("already-remote"));
  });

  it("stale and out-of-order jobs after overwrites and removes leave the last write on the remote", async () => {
    const w = await world();
    w.qstash.pause();
    await write(w, "k", "v1");
    await write(w, "k", "v2");
    await write(w, "k", "v3");
    await write(w, "gone", "x");
    await w.storage.removeItem("gone");
    expect(await w.storage.getItem("gone")).toBeNull();
    // Deliver the jobs of k newest first, as QStash might after retries: only v3's transfers.
    const outcomes = [];
    for (const index of [2, 1, 0]) {
      const response = await w.send(jobBody(w, index), w.sign(jobBody(w, index)));
      outcomes.push(((await response.json()) as { status: string }).status);
      expect(await w.storage.getItem("k")).toBe("v3");
    }
    expect(outcomes).toEqual(["transferred", "stale", "stale"]);
    w.qstash.resume();
    await expectConverged(w, { k: "v3", gone: null });
    const statuses = w.qstash.deliveries.map((d) => JSON.parse(d.responseBody).status);
    expect(statuses.sort()).toEqual(["already-remote", "stale", "stale", "stale"]);
    // A late overwrite after all that still wins.
    await write(w, "k", "v4");
    await expectConverged(w, { k: "v4", gone: null });
  });

  it("a remote that is down for two attempts is retried by QStash until the transfer succeeds", async () => {
    const w = await world({ retries: 3 });
    w.remote.failNext(2);
    await write(w, "photo", "bytes");
    await expectConverged(w, { photo: "bytes" });
    expect(w.qstash.deliveries.map((d) => [d.status, d.retried])).toEqual([[500, 0], [500, 1], [200, 2]]);
    expect(JSON.parse(w.qstash.deliveries[0]!.responseBody).error).toMatch(/remote is down/);
    expect((await w.storage.status("photo"))?.attempts).toBe(3);
  });

  it("a webhook that is down is retried by QStash once it is back", async () => {
    const w = await world({ retries: 8 });
    await w.hook.stop();
    await write(w, "report", "q3");
    while (!w.qstash.deliveries.some((d) => d.status === 0)) await new Promise((r) => setTimeout(r, 5));
    expect(await w.storage.getItem("report")).toBe("q3");
    expect((await w.storage.status("report"))?.state).toBe("queued");
    await w.hook.start();
    await expectConverged(w, { report: "q3" });
    expect(w.qstash.deliveries.at(-1)!.status).toBe(200);
    expect(w.qstash.dlq).toEqual([]);
  });

  it("forged, expired, re-bodied and wrong-subject signatures get 401 and transfer nothing", async () => {
    const w = await world();
    w.qstash.pause();
    await write(w, "secret", "s1");
    const body = jobBody(w, 0);
    const now = Math.floor(Date.now() / 1000);
    const attempts: Array<[string, Response]> = [
      ["missing", await w.send(body, undefined)],
      ["forged", await w.send(body, w.sign(body, { key: "sig_forged" }))],
      ["expired", await w.send(body, w.sign(body, { claims: { iat: now - 900, exp: now - 600 } }))],
      ["other body", await w.send(body, w.sign(JSON.stringify({ key: "secret", generation: 1 })))],
      ["wrong subject", await w.send(body, w.sign(body, { url: "https://attacker.example/hook" }))],
      ["failure url", await w.send(body, w.sign(body, { url: w.failureUrl }))],
    ];
    for (const [name, response] of attempts) expect(response.status, name).toBe(401);
    // A forged dead letter cannot mark the key failed either.
    const letter = JSON.stringify({ dlqId: "1-0", sourceBody: Buffer.from(body).toString("base64"), status: 500 });
    expect((await w.send(letter, w.sign(letter, { key: "sig_forged", url: w.failureUrl }), w.failureUrl)).status).toBe(401);
    expect(await remoteFile(w, "secret")).toBeNull();
    expect((await w.storage.status("secret"))?.state).toBe("queued");
    expect(w.remote.writes).toBe(0);
    w.qstash.resume();
    await expectConverged(w, { secret: "s1" });
  });

  it("oversized, malformed and invalid bodies are refused (413/400) even when correctly signed", async () => {
    const w = await world();
    w.qstash.pause();
    await write(w, "safe", "v");
    const big = JSON.stringify({ key: "safe", generation: 1, pad: "x".repeat(5000) });
    const cases: Array<[string, number]> = [
      [big, 413],
      ["{not json", 400],
      [JSON.stringify({ key: "../../etc/passwd", generation: 1 }), 400],
      [JSON.stringify({ key: "safe", generation: "1" }), 400],
      [JSON.stringify({ key: "safe", generation: 1, url: "https://evil.example" }), 400],
    ];
    for (const [body, status] of cases) expect((await w.send(body, w.sign(body))).status, body.slice(0, 40)).toBe(status);
    expect(w.remote.writes).toBe(0);
    expect((await w.storage.status("safe"))?.state).toBe("queued");
    w.qstash.resume();
    await expectConverged(w, { safe: "v" });
  });

  it("exhausted retries reach the failure callback, the key is `failed`, and sync() repairs it", async () => {
    const w = await world({ retries: 2 });
    w.remote.failNext(1000);
    await write(w, "invoice", "total=42");
    await w.qstash.idle();
    expect(w.qstash.dlq).toHaveLength(1);
    const callback = w.qstash.deliveries.find((d) => d.kind === "failure-callback")!;
    expect(callback).toMatchObject({ url: w.failureUrl, status: 200 });
    const status = await w.storage.status("invoice");
    expect(status?.state).toBe("failed");
    expect(status?.error).toContain(w.qstash.dlq[0]!.dlqId);
    expect(await w.storage.getItem("invoice")).toBe("total=42"); // still served from the local tier
    expect(await remoteFile(w, "invoice")).toBeNull();

    w.remote.failNext(0);
    expect(await w.storage.sync()).toMatchObject({ queued: 1 });
    await expectConverged(w, { invoice: "total=42" });
  });

  it("a permanent failure (local copy vanished) stops QStash at once via 489; a new write recovers", async () => {
    const w = await world({ retries: 5 });
    w.qstash.pause();
    await write(w, "tmp", "one");
    await w.local.removeItem!("tmp", {});
    w.qstash.resume();
    await w.qstash.idle();
    const attempts = w.qstash.deliveries.filter((d) => d.kind === "message");
    expect(attempts.map((d) => d.status)).toEqual([489]);
    expect((await w.storage.status("tmp"))?.state).toBe("failed");
    await write(w, "tmp", "two");
    await expectConverged(w, { tmp: "two" });
  });
});
