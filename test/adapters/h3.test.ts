import { Client } from "@upstash/qstash";
import { createApp, createRouter, defineEventHandler, readBody, toNodeListener } from "h3";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import memory from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import { defineTransferHandler } from "../../src/adapters/h3.ts";
import { createQueuedStorage, type QueuedStorage } from "../../src/index.ts";
import { qstashQueue } from "../../src/queues/qstash.ts";
import { signQStashJwt, startQStash, type QStashStandIn } from "../support/qstash-server.ts";

// The h3 (v1) adapter in a real h3 app on a real node:http server; the QStash stand-in publishes and delivers signed
// jobs to it, exactly as QStash calls a Nitro or Nuxt server.

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function world(): Promise<{ storage: QueuedStorage; remote: ReturnType<typeof memory>; qstash: QStashStandIn; url: string }> {
  const qstash = await startQStash();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/transfer`;
  const client = new Client({ baseUrl: qstash.url, token: qstash.token, enableTelemetry: false, retry: false });
  const remote = memory();
  const storage = createQueuedStorage({ local: memory(), remote, queue: qstashQueue({ client, url, retries: 0 }) });
  const keys = { currentSigningKey: qstash.currentSigningKey, nextSigningKey: qstash.nextSigningKey };
  const router = createRouter()
    // Another route that parses its body: h3 caches bodies per event, ours must still see the raw bytes.
    .post("/api/echo", defineEventHandler(async (event) => readBody(event)))
    .post("/api/transfer", defineTransferHandler(storage, { ...keys, url }));
  server.on("request", toNodeListener(createApp().use(router)));
  cleanups.push(() => qstash.stop(), () => new Promise((resolve) => server.close(resolve)), () => storage.dispose());
  return { storage, remote, qstash, url };
}

describe("adapters/h3: defineTransferHandler", () => {
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
