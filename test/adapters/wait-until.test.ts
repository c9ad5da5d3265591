import { Hono } from "hono";
import memory from "unstorage/drivers/memory";
import { describe, expect, it } from "vitest";
import { defineFileHandler } from "../../src/adapters/h3.ts";
import { fileRoute } from "../../src/adapters/hono.ts";
import { createQueuedStorage, type TransferJob, type TransferQueue } from "../../src/index.ts";

// Issue 24: an upload acknowledged once stored (`acknowledge: "stored"`) hands its background publish to the
// runtime's waitUntil, which each adapter takes from the request: Hono's executionCtx, h3's event.

function setup() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const published: TransferJob[] = [];
  const queue: TransferQueue = { name: "gated", enqueue: async (job) => void (await gate, published.push(job)) };
  const storage = createQueuedStorage({ local: memory(), remote: memory(), queue, acknowledge: "stored" });
  return { storage, published, open };
}

describe("adapters hand the request's waitUntil to an upload's background publish", () => {
  it("Hono: c.executionCtx.waitUntil (Workers, Deno Deploy) gets the publish; without one (Node) the upload still works", async () => {
    const { storage, published, open } = setup();
    const app = new Hono().all("/files/*", fileRoute(storage, { route: "/files/", upload: true, authorize: () => true }));
    const kept: Array<Promise<unknown>> = [];
    const executionCtx = { waitUntil: (promise: Promise<unknown>) => void kept.push(promise), passThroughOnException() {}, props: {} };
    const response = await app.request("http://x/files/a.txt", { method: "PUT", body: "hello" }, {}, executionCtx);
    expect(response.status).toBe(201);
    expect(kept).toHaveLength(1);
    expect(published).toHaveLength(0); // acknowledged before the publish
    const plain = await app.request("http://x/files/b.txt", { method: "PUT", body: "no ctx" });
    expect(plain.status).toBe(201);
    open();
    await Promise.all(kept);
    expect(published.map((job) => job.key)).toContain("a.txt");
    await storage.drain();
    expect(published.map((job) => job.key).sort()).toEqual(["a.txt", "b.txt"]);
  });

  it("h3: event.waitUntil gets the publish", async () => {
    const { storage, published, open } = setup();
    const handler = defineFileHandler(storage, { route: "/files/", upload: true, authorize: () => true });
    const kept: Array<Promise<unknown>> = [];
    const event = { req: new Request("http://x/files/c.txt", { method: "PUT", body: "h3" }), waitUntil: (p: Promise<unknown>) => void kept.push(p) };
    const response = await handler(event);
    expect(response?.status).toBe(201);
    expect(kept).toHaveLength(1);
    open();
    await Promise.all(kept);
    expect(published.map((job) => job.key)).toEqual(["c.txt"]);
  });
});
