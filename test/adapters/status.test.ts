import * as h3v1 from "h3";
import * as h3v2 from "h3-v2";
import { toNodeHandler } from "h3-v2/node";
import { Hono } from "hono";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import memory from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import { defineStatusHandler } from "../../src/adapters/h3.ts";
import { statusRoute } from "../../src/adapters/hono.ts";
import { createQueuedStorage, defineTask, memoryQueue, transfer, type QueuedStorage } from "../../src/index.ts";

// The status page through each adapter: the page, a same-origin Retry with its token (the key turns remote) and a
// cross-site POST refused, on real h3 1 / h3 2 apps over node:http and on a Hono app.

const ROUTE = "/_queued-storage";
const options = { route: ROUTE, authorize: () => true };
type Fetch = (path: string, init?: RequestInit) => Promise<Response>;
type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function failedStorage(): Promise<{ storage: QueuedStorage; broken: { on: boolean } }> {
  const broken = { on: true };
  const storage = createQueuedStorage({
    local: memory(),
    remote: memory(),
    task: defineTask({ name: "flaky", run: (ctx) => (broken.on ? Promise.reject(new Error("down")) : transfer.run(ctx)) }),
    queue: memoryQueue({ retries: 0, retryDelay: 1 }),
  });
  cleanups.push(() => storage.dispose());
  await storage.setItem("photos:1.jpg", "v");
  await storage.drain();
  return { storage, broken };
}

async function listen(listener: NodeListener): Promise<Fetch> {
  const server: Server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return (path, init) => fetch(`${origin}${path}`, { redirect: "manual", ...init, headers: { origin, ...init?.headers } });
}

const adapters: Array<{ name: string; serve(storage: QueuedStorage): Promise<Fetch> }> = [
  {
    name: "h3 1",
    serve: (storage) => {
      const handler = defineStatusHandler(storage, options);
      const router = h3v1.createRouter().use(ROUTE, handler as h3v1.EventHandler).use(`${ROUTE}/**`, handler as h3v1.EventHandler);
      return listen(h3v1.toNodeListener(h3v1.createApp().use(router)) as NodeListener);
    },
  },
  {
    name: "h3 2",
    serve: (storage) => {
      const handler = defineStatusHandler(storage, options) as h3v2.EventHandler;
      return listen(toNodeHandler(new h3v2.H3().all(ROUTE, handler).all(`${ROUTE}/**`, handler)) as NodeListener);
    },
  },
  {
    name: "Hono",
    serve: async (storage) => {
      const route = statusRoute(storage, options);
      const app = new Hono().all(ROUTE, route).all(`${ROUTE}/*`, route);
      return async (path, init) => app.fetch(new Request(`http://localhost${path}`, { ...init, headers: { origin: "http://localhost", ...init?.headers } }));
    },
  },
];

describe.each(adapters)("status page through $name", ({ serve }) => {
  it("shows a failed key, retries it from the form, refuses a cross-site POST, serves metrics", async () => {
    const { storage, broken } = await failedStorage();
    const request = await serve(storage);
    const page = await request(`${ROUTE}?state=failed`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("photos:1.jpg");
    const cookie = page.headers.get("set-cookie")!.split(";")[0]!;
    const token = cookie.split("=")[1]!;
    broken.on = false;
    const body = () => new URLSearchParams({ action: "retry", key: "photos:1.jpg", token });
    const contentType = { "content-type": "application/x-www-form-urlencoded" };
    const evil = await request(ROUTE, { method: "POST", body: body(), headers: { ...contentType, cookie, origin: "https://evil.example" } });
    expect(evil.status).toBe(403);
    expect(await storage.status("photos:1.jpg")).toMatchObject({ state: "failed" });
    const retried = await request(ROUTE, { method: "POST", body: body(), headers: { ...contentType, cookie } });
    expect(retried.status).toBe(303);
    await storage.drain();
    expect(await storage.status("photos:1.jpg")).toMatchObject({ state: "remote" });
    const metrics = await (await request(`${ROUTE}/metrics`)).text();
    expect(metrics).toContain('queued_storage_keys{state="remote"} 1');
  });
});
