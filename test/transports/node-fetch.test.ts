// createNodeFetch against real node:http and node:https servers on loopback: what fetch promises (bodies, headers,
// statuses, abort, errors), what it does differently on purpose (no redirects followed, no decoding), and that both
// directions keep backpressure, so neither side buffers a whole large body.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Agent as HttpsAgent, createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeFetch } from "../../src/transports/node-fetch.ts";
import { drain, listen, rejection, slowSource } from "./_servers.ts";

const MiB = 1024 * 1024;

/** What the server saw of the last request to each path. */
const seen = new Map<string, { method: string; headers: IncomingMessage["headers"]; body: Buffer }>();
let connections = 0;
let bigWritten = 0;
let bigFinished = false;
let uploadReceived = 0;
let server: Server;
let origin: string;

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url!, "http://x").pathname;
  if (path === "/big") {
    // 32 MiB in 64 KiB writes, each only after the socket took the previous one: what was written is what was read.
    const chunk = Buffer.alloc(64 * 1024, 7);
    bigWritten = 0;
    bigFinished = false;
    res.writeHead(200, { "content-length": String(32 * MiB) });
    const write = (): void => {
      while (bigWritten < 32 * MiB) {
        bigWritten += chunk.byteLength;
        if (!res.write(chunk)) return void res.once("drain", write);
      }
      bigFinished = true;
      res.end();
    };
    return write();
  }
  if (path === "/slow-upload") {
    // Reads nothing until told: the client must stop pulling its body stream.
    uploadReceived = 0;
    req.pause();
    setTimeout(() => {
      req.on("data", (c: Buffer) => (uploadReceived += c.byteLength));
      req.on("end", () => res.end(String(uploadReceived)));
      req.resume();
    }, 400);
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    seen.set(path, { method: req.method!, headers: req.headers, body: Buffer.concat(chunks) });
    if (path === "/echo") {
      res.writeHead(201, "Made", [["content-type", "application/octet-stream"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
      return void res.end(Buffer.concat(chunks));
    }
    if (path === "/empty") return void res.writeHead(204).end();
    if (path === "/moved") return void res.writeHead(301, { location: "/echo" }).end("moved");
    if (path === "/gzip") return void res.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync("plain text"));
    if (path === "/cut") {
      // Promises 1 MiB, sends 1 KiB, then drops the connection.
      res.writeHead(200, { "content-length": String(MiB) });
      res.write(Buffer.alloc(1024));
      return void setTimeout(() => res.socket?.destroy(), 20);
    }
    if (path === "/hang") return; // never answers
    res.end("ok");
  });
}

beforeAll(async () => {
  server = createServer(handle);
  server.on("connection", () => connections++);
  origin = await listen(server);
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const nodeFetch = createNodeFetch();

describe("transports: createNodeFetch — bodies, headers and statuses", () => {
  it("sends bytes, strings, URLSearchParams, Blobs and streams with the length and type fetch would give them", async () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    await nodeFetch(`${origin}/bytes`, { method: "PUT", body: bytes }).then((r) => r.text());
    expect(seen.get("/bytes")).toMatchObject({ method: "PUT", headers: { "content-length": "4" } });
    expect([...seen.get("/bytes")!.body]).toEqual([0, 1, 2, 255]);

    await nodeFetch(`${origin}/text`, { method: "POST", body: "héllo" }).then((r) => r.text());
    expect(seen.get("/text")!.headers).toMatchObject({ "content-length": "6", "content-type": "text/plain;charset=UTF-8" });
    expect(seen.get("/text")!.body.toString()).toBe("héllo");

    await nodeFetch(`${origin}/form`, { method: "POST", body: new URLSearchParams({ a: "1 2" }) }).then((r) => r.text());
    expect(seen.get("/form")!.headers["content-type"]).toBe("application/x-www-form-urlencoded;charset=UTF-8");
    expect(seen.get("/form")!.body.toString()).toBe("a=1+2");

    await nodeFetch(`${origin}/blob`, { method: "PUT", body: new Blob(["blob body"], { type: "text/x-test" }) }).then((r) => r.text());
    expect(seen.get("/blob")!.headers).toMatchObject({ "content-length": "9", "content-type": "text/x-test" });
    expect(seen.get("/blob")!.body.toString()).toBe("blob body");

    // A stream without a length goes chunked; with one, as that many bytes.
    const parts = [new Uint8Array([1, 2]), new Uint8Array([3])];
    const stream = (): ReadableStream<Uint8Array> => new ReadableStream({ start: (c) => (parts.forEach((p) => c.enqueue(p)), c.close()) });
    await nodeFetch(`${origin}/chunked`, { method: "PUT", body: stream(), duplex: "half" } as RequestInit).then((r) => r.text());
    expect(seen.get("/chunked")!.headers["transfer-encoding"]).toBe("chunked");
    expect([...seen.get("/chunked")!.body]).toEqual([1, 2, 3]);
    await nodeFetch(`${origin}/sized`, { method: "PUT", body: stream(), headers: { "Content-Length": "3" }, duplex: "half" } as RequestInit).then((r) => r.text());
    expect(seen.get("/sized")!.headers).toMatchObject({ "content-length": "3" });
    expect(seen.get("/sized")!.headers["transfer-encoding"]).toBeUndefined();

    // An empty PUT says Content-Length: 0; a GET says nothing.
    await nodeFetch(`${origin}/empty-put`, { method: "PUT" }).then((r) => r.text());
    expect(seen.get("/empty-put")!.headers["content-length"]).toBe("0");
    await nodeFetch(`${origin}/get`).then((r) => r.text());
    expect(seen.get("/get")!.headers["content-length"]).toBeUndefined();
  });

  it("answers a Response with status, status text, repeated headers and the body, readable with a BYOB reader", async () => {
    const response = await nodeFetch(`${origin}/echo`, { method: "POST", body: "abc", headers: { "X-Custom": "v" } });
    expect(response).toBeInstanceOf(Response);
    expect([response.status, response.statusText, response.ok]).toEqual([201, "Made", true]);
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(seen.get("/echo")!.headers["x-custom"]).toBe("v");
    const reader = response.body!.getReader({ mode: "byob" });
    const { value } = await reader.read(new Uint8Array(16));
    expect(new TextDecoder().decode(value)).toBe("abc");
    expect((await reader.read(new Uint8Array(16))).done).toBe(true);
  });

  it("gives HEAD and 204 a null body, returns redirects unfollowed and bodies undecoded", async () => {
    const head = await nodeFetch(`${origin}/get`, { method: "HEAD" });
    expect([head.status, head.body]).toEqual([200, null]);
    const empty = await nodeFetch(`${origin}/empty`);
    expect([empty.status, empty.body]).toEqual([204, null]);
    const moved = await nodeFetch(`${origin}/moved`);
    expect([moved.status, moved.headers.get("location"), await moved.text()]).toEqual([301, "/echo", "moved"]);
    const gzip = await nodeFetch(`${origin}/gzip`);
    expect(Buffer.from(await gzip.arrayBuffer()).equals(gzipSync("plain text"))).toBe(true);
  });

  it("keeps connections alive: 50 requests in a row use one socket", async () => {
    const own = createNodeFetch();
    await own(`${origin}/get`).then((r) => r.text());
    const before = connections;
    for (let i = 0; i < 50; i++) expect(await own(`${origin}/get`).then((r) => r.text())).toBe("ok");
    expect(connections - before).toBe(0);
  });

  it("leaves what it does not carry to the platform fetch: a Request object and FormData bodies arrive intact", async () => {
    const form = new FormData();
    form.set("field", "value");
    expect((await nodeFetch(`${origin}/formdata`, { method: "POST", body: form })).status).toBe(200);
    expect(seen.get("/formdata")!.body.toString()).toContain("value");
    expect((await nodeFetch(new Request(`${origin}/request`, { method: "PUT", body: "r" }))).status).toBe(200);
    expect(seen.get("/request")!.body.toString()).toBe("r");
  });
});

describe("transports: createNodeFetch — backpressure", () => {
  it("a response body read slowly holds the server back: it cannot write more than the socket buffers ahead", async () => {
    const response = await nodeFetch(`${origin}/big`);
    const reader = response.body!.getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Unread: the 64 KiB stream buffer plus the kernel's socket buffers, far from the 32 MiB the server has to send.
    expect(bigWritten).toBeLessThan(12 * MiB);
    expect(bigFinished).toBe(false);
    let total = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) total += r.value.byteLength;
    expect(total + 64 * 1024).toBeGreaterThanOrEqual(32 * MiB - 64 * 1024);
    expect(bigFinished).toBe(true);
  });

  it("a request body stream is pulled only as fast as the server reads it", async () => {
    const source = slowSource(64 * MiB);
    const pending = nodeFetch(`${origin}/slow-upload`, { method: "PUT", body: source.stream, duplex: "half" } as RequestInit);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The server has read nothing yet: what was pulled sits in the socket buffers, not in the process.
    expect(source.pulled()).toBeLessThan(16 * MiB);
    const response = await pending;
    expect(Number(await response.text())).toBe(64 * MiB);
    expect(source.pulled()).toBe(64 * MiB);
  });
});

describe("transports: createNodeFetch — abort and failures", () => {
  it("rejects with the signal's reason: already aborted, before the response, and during the body", async () => {
    const early = AbortSignal.abort(new Error("early"));
    await expect(nodeFetch(`${origin}/get`, { signal: early })).rejects.toThrow("early");

    const controller = new AbortController();
    const hanging = nodeFetch(`${origin}/hang`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(hanging).rejects.toMatchObject({ name: "AbortError" });

    const mid = new AbortController();
    const response = await nodeFetch(`${origin}/big`, { signal: mid.signal });
    const reader = response.body!.getReader();
    await reader.read();
    mid.abort();
    await expect(drain(reader)).rejects.toMatchObject({ name: "AbortError" });
  });

  it("a refused connection is a TypeError naming its cause, as fetch's is", async () => {
    const closed = createServer();
    const url = await listen(closed);
    closed.close();
    const error = await rejection(nodeFetch(`${url}/x`));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.cause.code).toBe("ECONNREFUSED");
  });

  it("a connection dropped mid-body errors the body with TypeError terminated, not a short success", async () => {
    const response = await nodeFetch(`${origin}/cut`);
    await expect(response.arrayBuffer()).rejects.toThrow("terminated");
  });

  it("a request body stream that fails rejects the fetch and cancels nothing the server kept", async () => {
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error("source broke"));
      },
    });
    const error = await rejection(nodeFetch(`${origin}/broken`, { method: "PUT", body: failing, duplex: "half" } as RequestInit));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.cause.message).toBe("source broke");
    expect(seen.has("/broken")).toBe(false);
  });

  it("rejects a bad option by name, and a URL that is not one with a TypeError (a rejection, not a throw)", async () => {
    expect(() => createNodeFetch({ maxSockets: 0 })).toThrow("`maxSockets` must be a positive integer");
    const pending = nodeFetch("not a url");
    await expect(pending).rejects.toThrow(TypeError);
    await expect(pending).rejects.toThrow("Invalid URL: not a url");
  });
});

describe("transports: createNodeFetch — https", () => {
  let dir: string;
  let secure: Server;
  let secureOrigin: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "qs-tls-"));
    try {
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    } catch (error) {
      throw new Error(`the https tests need the openssl command to make a certificate: ${(error as Error).message}`);
    }
    secure = createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, handle);
    secureOrigin = (await listen(secure)).replace("http:", "https:");
  });
  afterAll(() => {
    secure?.closeAllConnections();
    secure?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("speaks TLS through the given httpsAgent (its CA trusted), and refuses an untrusted certificate", async () => {
    const trusted = createNodeFetch({ httpsAgent: new HttpsAgent({ ca: readFileSync(join(dir, "cert.pem")), keepAlive: true }) });
    const response = await trusted(`${secureOrigin}/echo`, { method: "POST", body: "over tls" });
    expect([response.status, await response.text()]).toEqual([201, "over tls"]);
    const error = await rejection(createNodeFetch()(`${secureOrigin}/get`));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.cause.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
  });
});
