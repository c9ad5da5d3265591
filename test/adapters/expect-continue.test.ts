import { serve } from "@hono/node-server";
import * as h3v1 from "h3";
import { Hono } from "hono";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import memory from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import { defineFileHandler, expectContinue } from "../../src/adapters/h3.ts";
import { fileRoute } from "../../src/adapters/hono.ts";
import { createQueuedStorage } from "../../src/index.ts";

// `Expect: 100-continue` over a raw socket, as curl sends a large PUT: over maxBytes the 413 comes before any
// `100 Continue` (so the client never sends the body); within it, `100 Continue`, then the upload is stored.

const MAX = 1000;
const UPLOAD = { upload: { maxBytes: MAX }, authorize: () => true, route: "/files/" };

/** Send the head, wait for the first answer; send the body only after a `100 Continue`. Resolves with all it read. */
function putWithContinue(port: number, path: string, body: Uint8Array): Promise<{ first: string; all: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let all = "";
    let first = "";
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      all += text;
      if (!first && all.includes("\r\n")) {
        first = all.slice(0, all.indexOf("\r\n"));
        if (first.startsWith("HTTP/1.1 100")) socket.write(body);
      }
    });
    socket.once("error", reject);
    socket.once("close", () => resolve({ first, all }));
    socket.setTimeout(5000, () => socket.destroy());
    socket.write(
      `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n` +
        "Expect: 100-continue\r\nConnection: close\r\n\r\n",
    );
  });
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const apps = {
  "h3 1 on node:http": async (storage: ReturnType<typeof createQueuedStorage>): Promise<Server> => {
    const app = h3v1.createApp().use(h3v1.createRouter().use("/files/**", defineFileHandler(storage, UPLOAD) as never));
    const server = createServer(h3v1.toNodeListener(app));
    expectContinue(server, { maxBytes: MAX, route: "/files/" });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return server;
  },
  "Hono on @hono/node-server": async (storage: ReturnType<typeof createQueuedStorage>): Promise<Server> => {
    const app = new Hono().all("/files/*", fileRoute(storage, UPLOAD));
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server)) as Server;
    });
    expectContinue(server, { maxBytes: MAX, route: "/files/" });
    return server;
  },
};

describe.each(Object.entries(apps))("expectContinue: %s", (_name, start) => {
  it("over maxBytes: 413 by Content-Length before any 100 Continue; within it: 100 Continue, then 201", async () => {
    const storage = createQueuedStorage({ local: memory(), remote: memory() });
    const server = await start(storage);
    servers.push(server);
    const { port } = server.address() as AddressInfo;

    const big = await putWithContinue(port, "/files/big.bin", new Uint8Array(MAX + 1));
    expect(big.first, big.all).toBe("HTTP/1.1 413 Payload Too Large");
    expect(big.all).not.toContain("100 Continue");
    expect(await storage.hasItem("big.bin")).toBe(false);

    const small = await putWithContinue(port, "/files/small.bin", new Uint8Array(MAX).fill(1));
    expect(small.first).toBe("HTTP/1.1 100 Continue");
    expect(small.all).toMatch(/\r\n\r\nHTTP\/1\.1 201 /);
    expect((await storage.getItemRaw("small.bin"))?.length).toBe(MAX);
    await storage.dispose();
  });
});
