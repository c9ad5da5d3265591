import { Hono } from "hono";
import memory from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import { transferRoute, type HonoContextLike } from "../../src/adapters/hono.ts";
import { createQueuedStorage, type QueuedStorage, type TransferJob, type TransferQueue } from "../../src/index.ts";
import { createTransferHandler } from "../../src/queues/qstash.ts";
import { randomSigningKey, signQStashJwt } from "../support/qstash-server.ts";

// The Hono adapter inside a real Hono app, called through Hono's own fetch entry (app.request), as on any runtime.

const URL_ = "https://app.example.com/api/transfer";
const keys = { currentSigningKey: randomSigningKey(), nextSigningKey: randomSigningKey() };
const disposers: QueuedStorage[] = [];
afterEach(async () => {
  for (const storage of disposers.splice(0)) await storage.dispose();
});

function setup(route: (storage: QueuedStorage) => (c: HonoContextLike) => Promise<Response>) {
  const jobs: TransferJob[] = [];
  const queue: TransferQueue = { name: "held", enqueue: async (job) => void jobs.push(job) };
  const remote = memory();
  const storage = createQueuedStorage({ local: memory(), remote, queue });
  disposers.push(storage);
  const app = new Hono();
  // A body-parsing route elsewhere in the app must not matter to ours.
  app.post("/api/echo", async (c) => c.json(await c.req.json()));
  app.post("/api/transfer", route(storage));
  const deliver = (body: string, signature: string | null, method = "POST") =>
    app.request(URL_, { method, body: method === "GET" ? undefined : body, headers: signature ? { "upstash-signature": signature } : {} });
  return { app, storage, remote, jobs, deliver };
}

describe("adapters/hono: transferRoute", () => {
  it("runs a signed job: 200, the key is remote and the remote holds the bytes", async () => {
    const { storage, remote, jobs, deliver } = setup((s) => transferRoute(s, { ...keys, url: URL_ }));
    await storage.setItem("docs:1.txt", "hello hono");
    // Unusual spacing: the hash is over the exact bytes, never over re-serialized JSON.
    const body = JSON.stringify(jobs[0], null, 2);
    const response = await deliver(body, signQStashJwt({ key: keys.currentSigningKey, url: URL_, body }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "transferred" });
    expect((await storage.status("docs:1.txt"))?.state).toBe("remote");
    // Written with setItem, so the remote holds the text, as a direct setItem would have stored it.
    expect(await remote.getItem("docs:1.txt", {})).toBe("hello hono");
  });

  it("refuses forged and unsigned deliveries with 401 and transfers nothing", async () => {
    const { storage, remote, jobs, deliver } = setup((s) => transferRoute(s, { ...keys, url: URL_ }));
    await storage.setItem("docs:2.txt", "secret");
    const body = JSON.stringify(jobs[0]);
    expect((await deliver(body, signQStashJwt({ key: randomSigningKey(), url: URL_, body }))).status).toBe(401);
    expect((await deliver(body, null)).status).toBe(401);
    const other = JSON.stringify({ ...jobs[0], generation: jobs[0]!.generation + 1 });
    expect((await deliver(body, signQStashJwt({ key: keys.currentSigningKey, url: URL_, body: other }))).status).toBe(401);
    expect(await remote.hasItem("docs:2.txt", {})).toBe(false);
    expect((await storage.status("docs:2.txt"))?.state).toBe("queued");
  });

  it("takes a ready createTransferHandler too, and leaves other methods to Hono", async () => {
    const { storage, jobs, deliver, app } = setup((s) => transferRoute(createTransferHandler(s, { ...keys, url: URL_ })));
    await storage.setItem("docs:3.txt", "x");
    const body = JSON.stringify(jobs[0]);
    const response = await deliver(body, signQStashJwt({ key: keys.nextSigningKey, url: URL_, body }));
    expect(response.status).toBe(200);
    expect((await app.request(URL_)).status).toBe(404); // GET is not routed
  });
});
