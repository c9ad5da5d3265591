import { createApp, createRouter, toNodeListener } from "h3";
import { H3 } from "h3-v2";
import { toNodeHandler } from "h3-v2/node";
import { Hono } from "hono";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defineFileHandler } from "../../src/adapters/h3.ts";
import { fileRoute } from "../../src/adapters/hono.ts";
import { createFileHandler, type FileHandlerOptions } from "../../src/index.ts";
import { startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { bytesOf, countFileReads, pattern, sameBytes, serveWorld, type ServeWorld } from "./_world.ts";

// Uploads through the handler mounted with the h3 adapter on a real node:http server, hostile clients included.

let s3: S3rverHandle;
beforeAll(async () => {
  s3 = await startS3rver({ bucket: "upload-test" });
});
afterAll(async () => {
  await s3?.stop();
});
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TOKEN = "Bearer let-me-in";
const authorize: FileHandlerOptions["authorize"] = (request, _key, operation) =>
  operation === "read" || request.headers.get("authorization") === TOKEN;

async function app(options: FileHandlerOptions, major: "h3 1" | "h3 2" = "h3 1"): Promise<{ world: ServeWorld; origin: string; errors: unknown[] }> {
  const world = await serveWorld(s3);
  const errors: unknown[] = [];
  const files = defineFileHandler(world.storage, { route: "/files/", onError: (e) => errors.push(e), ...options });
  // h3 2 on Node as Nitro 3 runs it: srvx's adapter, which takes our answers' `_toNodeResponse()`.
  const server: Server = createServer(major === "h3 1"
    ? toNodeListener(createApp().use(createRouter().use("/files/**", files)))
    : toNodeHandler(new H3().all("/files/**", files)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  // closeAllConnections: a hostile test may leave a connection busy, which close() alone would wait for.
  cleanups.push(() => world.dispose(), () => new Promise((resolve) => (server.close(resolve), server.closeAllConnections())));
  return { world, origin: `http://127.0.0.1:${port}`, errors };
}

/** Raw HTTP: send `head`, then `body` chunks, then hang up ("close"), read the whole answer ("wait"), or hang up after its first bytes. */
async function rawRequest(origin: string, head: string, chunks: Uint8Array[], end: "close" | "wait" | "first-bytes"): Promise<string> {
  const { port } = new URL(origin);
  const socket = connect(Number(port), "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  let answer = "";
  socket.setEncoding("latin1").on("data", (text: string) => (answer += text));
  socket.write(head);
  for (const chunk of chunks) socket.write(chunk);
  if (end === "close") {
    socket.destroy();
    return "";
  }
  // Never wait forever: a server that does not answer or hang up fails the test's assertions instead of hanging it.
  const limit = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());
  if (end === "first-bytes") {
    await Promise.race([new Promise((resolve) => socket.once("data", resolve)), limit(15_000)]);
    socket.destroy();
    return answer;
  }
  await Promise.race([new Promise<void>((resolve) => socket.once("close", resolve).once("end", resolve)), limit(15_000)]);
  socket.destroy();
  return answer;
}

describe("serve: uploads on PUT and POST", () => {
  it("PUT streams the body into the storage and answers 201 with the status; GET serves it; POST works the same", async () => {
    const { world, origin } = await app({ upload: { maxBytes: 1024 * 1024, types: ["image/*"] }, authorize });
    const bytes = pattern(500_000);
    const put = await fetch(`${origin}/files/images/cat.png`, { method: "PUT", body: bytes, headers: { authorization: TOKEN, "content-type": "image/png" } });
    expect(put.status).toBe(201);
    expect(put.headers.get("location")).toBe("/files/images/cat.png");
    const status = await put.json();
    expect(status).toMatchObject({ key: "images:cat.png", state: "local", attempts: 0 });
    expect(status.generation).toBe((await world.storage.status("images:cat.png"))!.generation);
    expect(sameBytes(await bytesOf(await fetch(`${origin}/files/images/cat.png`)), bytes)).toBe("same");
    const post = await fetch(`${origin}/files/images/dog.png`, { method: "POST", body: bytes.subarray(0, 10), headers: { authorization: TOKEN, "content-type": "image/png" } });
    expect(post.status).toBe(201);
    expect(sameBytes((await world.storage.getItemRaw("images:dog.png"))!, bytes.subarray(0, 10))).toBe("same");
  });

  it("refuses without authorization (403), over maxBytes (413, by Content-Length or while streaming), and disallowed types (415)", async () => {
    const { world, origin } = await app({ upload: { maxBytes: 1000, types: ["image/*"] }, authorize });
    await world.storage.setItem("images:keep.png", "old");
    const put = (path: string, body: BodyInit, headers: Record<string, string>): Promise<Response> =>
      fetch(`${origin}${path}`, { method: "PUT", body, headers: { authorization: TOKEN, "content-type": "image/png", ...headers }, duplex: "half" } as RequestInit);
    expect((await put("/files/images/keep.png", "x", { authorization: "Bearer wrong" })).status).toBe(403);
    expect((await put("/files/images/keep.png", new Uint8Array(1001), {})).status).toBe(413);
    // No Content-Length: the limit is enforced on the bytes that arrive.
    let stopped = false;
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      // Each chunk after a macrotask: pulled in a tight loop by a client whose socket is gone, a synchronous source
      // would starve this process's event loop (timers included, so not even the test timeout fires).
      async pull(c) {
        await new Promise((resolve) => setImmediate(resolve));
        if (stopped) return c.close();
        c.enqueue(new Uint8Array(16 * 1024));
        sent += 16 * 1024;
      },
      cancel: () => void (stopped = true),
    });
    const cut = await put("/files/images/keep.png", endless, {});
    expect(cut.status, await cut.clone().text()).toBe(413);
    // The server hung up after its answer: the client's endless upload stops (the socket is gone), it does not go on
    // forever. Polled: two readings 300 ms apart, within 5 s, must be equal.
    let before = -1;
    for (let i = 0; i < 16 && before !== sent; i++) {
      before = sent;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(sent).toBe(before);
    stopped = true;
    expect((await put("/files/images/keep.png", "x", { "content-type": "text/html" })).status).toBe(415);
    // Declared as an image but named .html: it would be served back as HTML.
    expect((await put("/files/images/evil.html", "<script>", {})).status).toBe(415);
    expect(await world.storage.getItem("images:keep.png")).toBe("old");
    expect(await world.storage.hasItem("images:evil.html")).toBe(false);
  });

  it("uploads need an authorize hook; without upload, PUT is 405; only queued storages can be served", async () => {
    const world = await serveWorld(s3);
    cleanups.push(() => world.dispose());
    expect(() => createFileHandler(world.storage, { upload: true })).toThrow("option `upload` needs `authorize(request, key, operation)`");
    const readOnly = createFileHandler(world.storage, { route: "/files/" });
    const put = await readOnly(new Request("http://app.test/files/a.txt", { method: "PUT", body: "x" }));
    expect([put.status, put.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    expect(await world.storage.hasItem("a.txt")).toBe(false);
    expect(() => createFileHandler({ url: async () => "" } as never)).toThrow(/expected a queued storage/);
  });

  it("survives hostile clients: an aborted body and a stalled body leave the old value, no temp file, and the server serving", async () => {
    const { world, origin, errors } = await app({ upload: { maxBytes: 10_000_000, idleTimeoutMs: 300 }, authorize });
    await world.storage.setItem("docs:a.txt", "old");
    const head = (length: number): string =>
      `PUT /files/docs/a.txt HTTP/1.1\r\nHost: x\r\nAuthorization: ${TOKEN}\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;
    // Hang up halfway through the body.
    await rawRequest(origin, head(1_000_000), [new Uint8Array(200_000)], "close");
    // Send a little, then nothing: cut off after idleTimeoutMs with 408.
    const stalled = await rawRequest(origin, head(1_000_000), [new Uint8Array(1000)], "wait");
    expect(stalled).toMatch(/^HTTP\/1\.1 408/);
    // The server still answers, and the aborted writes changed nothing.
    for (let i = 0; i < 50 && (await readdir(join(world.dir, "local", "docs"))).length > 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await readdir(join(world.dir, "local", "docs"))).toEqual(["a.txt"]);
    const response = await fetch(`${origin}/files/docs/a.txt`);
    expect(await response.text()).toBe("old");
    expect(errors).toEqual([]);
  });
});

describe("serve over h3: downloads", () => {
  it.each(["h3 1", "h3 2"] as const)("%s: a client that hangs up mid-download stops the reading (backpressure, then cancel): the file is neither read to its end nor left open", async (major) => {
    const { world, origin } = await app({}, major);
    const size = 64 * 1024 * 1024;
    await world.storage.setItemRaw("videos:big.bin", pattern(size));
    const path = join(world.dir, "local", "videos", "big.bin");
    const holders = async (): Promise<number> => {
      let count = 0;
      for (const fd of await readdir("/proc/self/fd")) {
        if ((await readlink(`/proc/self/fd/${fd}`).catch(() => "")) === path) count++;
      }
      return count;
    };
    // Count what the server reads from its files (it runs in this process).
    const reads = await countFileReads();
    try {
      const answer = await rawRequest(origin, "GET /files/videos/big.bin HTTP/1.1\r\nHost: x\r\n\r\n", [], "first-bytes");
      expect(answer).toMatch(/^HTTP\/1\.1 200/);
      // The socket is gone: the body stream is cancelled and its file handle closed (polled: closing is asynchronous).
      let open = await holders();
      for (let i = 0; i < 100 && open > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        open = await holders();
      }
      expect(open).toBe(0);
    } finally {
      reads.restore();
    }
    // What the socket buffers took before the hang-up, not the 64 MiB an unthrottled pipe reads into memory.
    expect(reads.bytes()).toBeLessThan(16 * 1024 * 1024);
    const again = await fetch(`${origin}/files/videos/big.bin`, { headers: { range: "bytes=0-9" } });
    expect(sameBytes(await bytesOf(again), pattern(10))).toBe("same");
  });
});

describe("adapters: h3 2 on Node (srvx) sends our answers through their _toNodeResponse", () => {
  it("small and large files, a range and HEAD arrive intact over a real socket, with the handler's headers", async () => {
    const { world, origin } = await app({}, "h3 2");
    const small = pattern(4096);
    const large = pattern(3 * 1024 * 1024 + 17);
    await world.storage.setItemRaw("a:small.bin", small);
    await world.storage.setItemRaw("a:large.bin", large);
    for (const [key, bytes] of [["small", small], ["large", large]] as const) {
      const response = await fetch(`${origin}/files/a/${key}.bin`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-length")).toBe(String(bytes.byteLength));
      expect(response.headers.get("etag")).toMatch(/^"/);
      expect(sameBytes(await bytesOf(response), bytes)).toBe("same");
    }
    const part = await fetch(`${origin}/files/a/large.bin`, { headers: { range: "bytes=1000000-1999999" } });
    expect(part.status).toBe(206);
    expect(sameBytes(await bytesOf(part), large.subarray(1_000_000, 2_000_000))).toBe("same");
    const head = await fetch(`${origin}/files/a/large.bin`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length")]).toEqual([200, String(large.byteLength)]);
  });

  it("the answers carry _toNodeResponse: bytes for small files, a pipe that writes with backpressure for large ones", async () => {
    const world = await serveWorld(s3);
    cleanups.push(() => world.dispose());
    await world.storage.setItemRaw("a:small.bin", pattern(100));
    await world.storage.setItemRaw("a:large.bin", pattern(300_000));
    const files = createFileHandler(world.storage);
    type NodeAnswer = { status: number; headers: string[]; body: unknown };
    const small = ((await files(new Request("http://x/a/small.bin"))) as unknown as { _toNodeResponse(): NodeAnswer })._toNodeResponse();
    expect(small.status).toBe(200);
    expect(small.body).toBeInstanceOf(Uint8Array);
    expect(small.headers[small.headers.indexOf("content-length") + 1]).toBe("100");
    const large = ((await files(new Request("http://x/a/large.bin"))) as unknown as { _toNodeResponse(): NodeAnswer })._toNodeResponse();
    expect(typeof (large.body as { pipe?: unknown }).pipe).toBe("function");
    // A body someone already read goes to srvx as the (used) stream, never as a pipe over a locked one.
    const read = await files(new Request("http://x/a/large.bin"));
    await read.arrayBuffer();
    expect((read as unknown as { _toNodeResponse(): NodeAnswer })._toNodeResponse().body).toBe(read.body);
  });
});

describe("adapters: Hono fileRoute", () => {
  it("serves GET with ranges from c.req.raw", async () => {
    const world = await serveWorld(s3);
    cleanups.push(() => world.dispose());
    await world.storage.setItemRaw("v:clip.bin", pattern(1000));
    const hono = new Hono().all("/files/*", fileRoute(world.storage, { route: "/files/" }));
    const response = await hono.request("/files/v/clip.bin", { headers: { range: "bytes=10-19" } });
    expect(response.status).toBe(206);
    expect(sameBytes(await bytesOf(response), pattern(1000).subarray(10, 20))).toBe("same");
  });
});
