import { Client } from "@upstash/qstash";
import * as h3v1 from "h3";
import * as h3v2 from "h3-v2";
import { toNodeHandler } from "h3-v2/node";
import { createRequire } from "node:module";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import memory from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import { defineTransferHandler } from "../../src/adapters/h3.ts";
import { createQueuedStorage, type QueuedStorage } from "../../src/index.ts";
import { qstashQueue } from "../../src/queues/qstash.ts";
import { signQStashJwt, startQStash, type QStashStandIn } from "../support/qstash-server.ts";

// The h3 adapter in a real h3 app of each major (h3 1: Nitro 2 / Nuxt; h3 2 through the `h3-v2` alias: Nitro 3) on a
// real node:http server; the QStash stand-in publishes and delivers signed jobs to it, as QStash calls a Nitro server.

const h3v1Version: string = createRequire(import.meta.url)("h3/package.json").version;
const h3v2Version: string = createRequire(import.meta.url)("h3-v2/package.json").version;

type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;
const majors: Array<{ major: string; version: string; app(routes: Record<string, (event: never) => unknown>): NodeListener }> = [
  {
    major: "h3 1",
    version: h3v1Version,
    app(routes) {
      const router = h3v1.createRouter();
      for (const [path, handler] of Object.entries(routes)) router.post(path, handler as h3v1.EventHandler);
      return h3v1.toNodeListener(h3v1.createApp().use(router)) as NodeListener;
    },
  },
  {
    major: "h3 2",
    version: h3v2Version,
    app(routes) {
      const app = new h3v2.H3();
      for (const [path, handler] of Object.entries(routes)) app.post(path, handler as h3v2.EventHandler);
      return toNodeHandler(app) as NodeListener;
    },
  },
];

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.each(majors)("adapters/h3 under $major ($version): defineTransferHandler", ({ major, app }) => {
async function world(): Promise<{ storage: QueuedStorage; remote: ReturnType<typeof memory>; qstash: QStashStandIn; url: string }> {
  const qstash = await startQStash();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/transfer`;
  const client = new Client({ baseUrl: qstash.url, token: qstash.token, enableTelemetry: false, retry: false });
  const remote = memory();
  const storage = createQueuedStorage({ local: memory(), remote, queue: qstashQueue({ client, url, retries: 0 }) });
  const keys = { currentSigningKey: qstash.currentSigningKey, nextSigningKey: qstash.nextSigningKey };
  const readBody = (event: never) => (major === "h3 1" ? h3v1.readBody(event) : h3v2.readBody(event));
  const listener = app({
    // Another route that parses its body: h3 caches bodies per event, ours must still see the raw bytes.
    "/api/echo": async (event: never) => readBody(event),
    "/api/transfer": defineTransferHandler(storage, { ...keys, url }),
  });
  server.on("request", listener);
  cleanups.push(() => qstash.stop(), () => new Promise((resolve) => server.close(resolve)), () => storage.dispose());
  return { storage, remote, qstash, url };
}

  it("QStash delivers the signed job to the h3 route: 200, the key is remote, the bytes are on the remote", async () => {
    const { storage, remote, qstash } = await world();
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
    await storage.setItemRaw("videos:clip.bin", bytes);
    await qstash.idle();
    expect(qstash.deliveries.map((d) => d.status)).toEqual([200]);
    expect((await storage.status("videos:clip.bin"))?.state).toBe("remote");
    expect(Buffer.compare((await remote.getItemRaw!("videos:clip.bin", {})) as Uint8Array, bytes)).toBe(0);
  });

  it("answers 401 to forged and unsigned requests and transfers nothing", async () => {
    const { storage, remote, qstash, url } = await world();
    qstash.pause(); // hold the real delivery
    await storage.setItem("notes:1", "keep local");
    const body = JSON.stringify({ key: "notes:1", generation: (await storage.status("notes:1"))!.generation });
    const forged = signQStashJwt({ key: "sig_not-the-key", url, body });
    const responses = await Promise.all([
      fetch(url, { method: "POST", body, headers: { "upstash-signature": forged } }),
      fetch(url, { method: "POST", body }),
      fetch(url, { method: "POST", body: `${body} `, headers: { "upstash-signature": signQStashJwt({ key: qstash.currentSigningKey, url, body }) } }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([401, 401, 401]);
    expect(await remote.hasItem("notes:1", {})).toBe(false);
    expect((await storage.status("notes:1"))?.state).toBe("queued");
    // A correctly signed copy of the same job, sent by hand, goes through.
    const signed = signQStashJwt({ key: qstash.currentSigningKey, url, body });
    const ok = await fetch(url, { method: "POST", body, headers: { "upstash-signature": signed } });
    expect(ok.status).toBe(200);
    expect((await storage.status("notes:1"))?.state).toBe("remote");
  });
});
