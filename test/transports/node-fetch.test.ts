// createNodeFetch against a real node:http server on loopback: what fetch promises for bodies, headers and statuses,
// what it does differently on purpose (no redirects followed, no decoding), and that both directions keep
// backpressure, so neither side buffers a whole large body. Failures, abort and TLS: node-fetch-failures.test.ts.
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createNodeFetch } from "../../src/transports/node-fetch.ts";
import { slowSource } from "./_servers.ts";
import { useTestServer } from "./_test-server.ts";

const MiB = 1024 * 1024;

const server = useTestServer();
const nodeFetch = createNodeFetch();

describe("transports: createNodeFetch — bodies, headers and statuses", () => {
  it("sends bytes, strings, URLSearchParams, Blobs and streams with the length and type fetch would give them", async () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    await nodeFetch(`${server.origin}/bytes`, { method: "PUT", body: bytes }).then((r) => r.text());
    expect(server.seen.get("/bytes")).toMatchObject({ method: "PUT", headers: { "content-length": "4" } });
    expect([...server.seen.get("/bytes")!.body]).toEqual([0, 1, 2, 255]);

    await nodeFetch(`${server.origin}/text`, { method: "POST", body: "héllo" }).then((r) => r.text());
    expect(server.seen.get("/text")!.headers).toMatchObject({ "content-length": "6", "content-type": "text/plain;charset=UTF-8" });
    expect(server.seen.get("/text")!.body.toString()).toBe("héllo");

    await nodeFetch(`${server.origin}/form`, { method: "POST", body: new URLSearchParams({ a: "1 2" }) }).then((r) => r.text());
    expect(server.seen.get("/form")!.headers["content-type"]).toBe("application/x-www-form-urlencoded;charset=UTF-8");
    expect(server.seen.get("/form")!.body.toString()).toBe("a=1+2");

    await nodeFetch(`${server.origin}/blob`, { method: "PUT", body: new Blob(["blob body"], { type: "text/x-test" }) }).then((r) => r.text());
    expect(server.seen.get("/blob")!.headers).toMatchObject({ "content-length": "9", "content-type": "text/x-test" });
    expect(server.seen.get("/blob")!.body.toString()).toBe("blob body");

    // A stream without a length goes chunked; with one, as that many bytes.
    const parts = [new Uint8Array([1, 2]), new Uint8Array([3])];
    const stream = (): ReadableStream<Uint8Array> => new ReadableStream({ start: (c) => (parts.forEach((p) => c.enqueue(p)), c.close()) });
    await nodeFetch(`${server.origin}/chunked`, { method: "PUT", body: stream(), duplex: "half" } as RequestInit).then((r) => r.text());
    expect(server.seen.get("/chunked")!.headers["transfer-encoding"]).toBe("chunked");
    expect([...server.seen.get("/chunked")!.body]).toEqual([1, 2, 3]);
    await nodeFetch(`${server.origin}/sized`, { method: "PUT", body: stream(), headers: { "Content-Length": "3" }, duplex: "half" } as RequestInit).then((r) => r.text());
    expect(server.seen.get("/sized")!.headers).toMatchObject({ "content-length": "3" });
    expect(server.seen.get("/sized")!.headers["transfer-encoding"]).toBeUndefined();

    // An empty PUT says Content-Length: 0; a GET says nothing.
    await nodeFetch(`${server.origin}/empty-put`, { method: "PUT" }).then((r) => r.text());
    expect(server.seen.get("/empty-put")!.headers["content-length"]).toBe("0");
    await nodeFetch(`${server.origin}/get`).then((r) => r.text());
    expect(server.seen.get("/get")!.headers["content-length"]).toBeUndefined();
  });

  it("answers a Response with status, status text, repeated headers and the body, readable with a BYOB reader", async () => {
    const response = await nodeFetch(`${server.origin}/echo`, { method: "POST", body: "abc", headers: { "X-Custom": "v" } });
    expect(response).toBeInstanceOf(Response);
    expect([response.status, response.statusText, response.ok]).toEqual([201, "Made", true]);
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(server.seen.get("/echo")!.headers["x-custom"]).toBe("v");
    const reader = response.body!.getReader({ mode: "byob" });
    const { value } = await reader.read(new Uint8Array(16));
    expect(new TextDecoder().decode(value)).toBe("abc");
    expect((await reader.read(new Uint8Array(16))).done).toBe(true);
  });

  it("gives HEAD and 204 a null body, returns redirects unfollowed and bodies undecoded", async () => {
    const head = await nodeFetch(`${server.origin}/get`, { method: "HEAD" });
    expect([head.status, head.body]).toEqual([200, null]);
    const empty = await nodeFetch(`${server.origin}/empty`);
    expect([empty.status, empty.body]).toEqual([204, null]);
    const moved = await nodeFetch(`${server.origin}/moved`);
    expect([moved.status, moved.headers.get("location"), await moved.text()]).toEqual([301, "/echo", "moved"]);
    const gzip = await nodeFetch(`${server.origin}/gzip`);
    expect(Buffer.from(await gzip.arrayBuffer()).equals(gzipSync("plain text"))).toBe(true);
  });

  it("keeps server.counts.connections alive: 50 requests in a row use one socket", async () => {
    const own = createNodeFetch();
    await own(`${server.origin}/get`).then((r) => r.text());
    const before = server.counts.connections;
    for (let i = 0; i < 50; i++) expect(await own(`${server.origin}/get`).then((r) => r.text())).toBe("ok");
    expect(server.counts.connections - before).toBe(0);
  });

  it("leaves what it does not carry to the platform fetch: a Request object and FormData bodies arrive intact", async () => {
    const form = new FormData();
    form.set("field", "value");
    expect((await nodeFetch(`${server.origin}/formdata`, { method: "POST", body: form })).status).toBe(200);
    expect(server.seen.get("/formdata")!.body.toString()).toContain("value");
    expect((await nodeFetch(new Request(`${server.origin}/request`, { method: "PUT", body: "r" }))).status).toBe(200);
    expect(server.seen.get("/request")!.body.toString()).toBe("r");
  });
});

describe("transports: createNodeFetch — backpressure", () => {
  it("a response body read slowly holds the server back: it cannot write more than the socket buffers ahead", async () => {
    const response = await nodeFetch(`${server.origin}/big`);
    const reader = response.body!.getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Unread: the 64 KiB stream buffer plus the kernel's socket buffers, far from the 32 MiB the server has to send.
    expect(server.counts.bigWritten).toBeLessThan(12 * MiB);
    expect(server.counts.bigFinished).toBe(false);
    let total = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) total += r.value.byteLength;
    expect(total + 64 * 1024).toBeGreaterThanOrEqual(32 * MiB - 64 * 1024);
    expect(server.counts.bigFinished).toBe(true);
  });

  it("a request body stream is pulled only as fast as the server reads it", async () => {
    const source = slowSource(64 * MiB);
    const pending = nodeFetch(`${server.origin}/slow-upload`, { method: "PUT", body: source.stream, duplex: "half" } as RequestInit);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The server has read nothing yet: what was pulled sits in the socket buffers, not in the process.
    expect(source.pulled()).toBeLessThan(16 * MiB);
    const response = await pending;
    expect(Number(await response.text())).toBe(64 * MiB);
    expect(source.pulled()).toBe(64 * MiB);
  });
});
