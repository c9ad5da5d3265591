import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import memory from "unstorage/drivers/memory";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import fsDriver from "../../src/drivers/fs/index.ts";
import { createFileHandler, createQueuedStorage } from "../../src/index.ts";
import { startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { bytesOf, countFileReads, get, pattern, sameBytes, serveWorld, type ServeWorld } from "./_world.ts";

// createFileHandler against real tiers: the fs driver locally, our S3 driver over s3rver remotely.

let s3: S3rverHandle;
beforeAll(async () => {
  s3 = await startS3rver({ bucket: "serve-test" });
});
afterAll(async () => {
  await s3?.stop();
});
const worlds: ServeWorld[] = [];
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.dispose();
});
async function world(...args: Parameters<typeof serveWorld> extends [unknown, ...infer R] ? R : never): Promise<ServeWorld> {
  const w = await serveWorld(s3, ...args);
  worlds.push(w);
  return w;
}

describe("serve: GET and HEAD from the tier holding the current generation", () => {
  it("GET streams the local copy with type, length, validators and cache headers; HEAD sends the same headers, no body", async () => {
    const { storage } = await world();
    const bytes = pattern(300_000);
    await storage.setItemRaw("images:photo.png", bytes);
    const files = createFileHandler(storage, { route: "/files/" });
    const response = await get(files, "/files/images/photo.png");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("content-length")).toBe("300000");
    expect(response.headers.get("accept-ranges")).toBe("bytes");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("etag")).toMatch(/^"[0-9a-z]+-[0-9a-z.]+"$/);
    expect(Date.parse(response.headers.get("last-modified")!)).toBeGreaterThan(Date.now() - 60_000);
    expect(sameBytes(await bytesOf(response), bytes)).toBe("same");

    const head = await get(files, "/files/images/photo.png", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect([...head.headers].sort()).toEqual([...response.headers].sort());
    expect(head.body).toBeNull();
  });

  it("a plain GET opens a local file once (no stat first) and sends the validators HEAD and a conditional GET see", async () => {
    const dir = await mkdtemp(join(tmpdir(), "queued-storage-serve-open-"));
    const local = fsDriver({ base: dir });
    const getMeta = vi.spyOn(local, "getMeta");
    const storage = createQueuedStorage({ local, remote: memory(), delayed: true });
    try {
      for (const [key, size] of [["small.txt", 4096], ["large.bin", 300_000]] as const) {
        await storage.setItemRaw(key, pattern(size));
        const files = createFileHandler(storage);
        getMeta.mockClear();
        const response = await get(files, `/${key}`);
        expect(response.status).toBe(200);
        expect(sameBytes(await bytesOf(response), pattern(size))).toBe("same");
        expect(getMeta).not.toHaveBeenCalled();
        const head = await get(files, `/${key}`, { method: "HEAD" });
        expect(getMeta).toHaveBeenCalledTimes(1);
        expect([...head.headers].sort()).toEqual([...response.headers].sort());
        expect(response.headers.get("content-length")).toBe(String(size));
        const again = await get(files, `/${key}`, { headers: { "if-none-match": response.headers.get("etag")! } });
        expect(again.status).toBe(304);
      }
    } finally {
      await storage.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("after the transfer (local copy deleted) the same URL streams from S3, with a new ETag", async () => {
    const { storage, counting } = await world();
    const bytes = pattern(70_000);
    await storage.setItemRaw("docs:report.pdf", bytes);
    const files = createFileHandler(storage, { route: "/files" });
    const before = await get(files, "/files/docs/report.pdf");
    await bytesOf(before);
    expect(await storage.transferNow("docs:report.pdf")).toBe("transferred");
    counting.reset();
    const after = await get(files, "/files/docs/report.pdf");
    expect(after.status).toBe(200);
    expect(after.headers.get("content-type")).toBe("application/pdf");
    expect(sameBytes(await bytesOf(after), bytes)).toBe("same");
    expect(counting.received()).toBe(bytes.length); // the bytes came from s3rver
    expect(after.headers.get("etag")).not.toBe(before.headers.get("etag"));
  });

  it("answers 404 for missing keys and for paths outside the route", async () => {
    const { storage } = await world();
    const files = createFileHandler(storage, { route: "/files/" });
    expect((await get(files, "/files/nope.txt")).status).toBe(404);
    expect((await get(files, "/other/nope.txt")).status).toBe(404);
  });
});

describe("serve: conditional requests", () => {
  it("If-None-Match with the current ETag → 304 without a body; a stale ETag → 200", async () => {
    const { storage } = await world();
    await storage.setItem("notes:a.txt", "first");
    const files = createFileHandler(storage, { route: "/files/" });
    const etag = (await get(files, "/files/notes/a.txt")).headers.get("etag")!;
    const cached = await get(files, "/files/notes/a.txt", { headers: { "if-none-match": `"x", ${etag}` } });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("etag")).toBe(etag);
    expect(cached.body).toBeNull();
    const stale = await get(files, "/files/notes/a.txt", { headers: { "if-none-match": '"not-it"' } });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe("first");
  });

  it("If-Modified-Since at or after Last-Modified → 304; before → 200; If-None-Match wins over it", async () => {
    const { storage } = await world();
    await storage.setItem("notes:b.txt", "text");
    const files = createFileHandler(storage, { route: "/files/" });
    const lastModified = (await get(files, "/files/notes/b.txt")).headers.get("last-modified")!;
    expect((await get(files, "/files/notes/b.txt", { headers: { "if-modified-since": lastModified } })).status).toBe(304);
    const earlier = new Date(Date.parse(lastModified) - 10_000).toUTCString();
    expect((await get(files, "/files/notes/b.txt", { headers: { "if-modified-since": earlier } })).status).toBe(200);
    const both = { "if-modified-since": lastModified, "if-none-match": '"other"' };
    expect((await get(files, "/files/notes/b.txt", { headers: both })).status).toBe(200);
  });

  it("the ETag changes with every write, even of the same bytes, and the old one no longer gets a 304", async () => {
    const { storage } = await world();
    const files = createFileHandler(storage, { route: "/files/" });
    const etags: string[] = [];
    for (let i = 0; i < 3; i++) {
      await storage.setItem("notes:same.txt", "same bytes");
      etags.push((await get(files, "/files/notes/same.txt")).headers.get("etag")!);
    }
    expect(new Set(etags).size).toBe(3);
    const generation = (await storage.status("notes:same.txt"))!.generation;
    expect(etags[2]).toContain(`"${generation.toString(36)}-`);
    const old = await get(files, "/files/notes/same.txt", { headers: { "if-none-match": etags[0]! } });
    expect(old.status).toBe(200);
  });
});

describe("serve: byte ranges", () => {
  const size = 100_000;
  const bytes = pattern(size);
  const cases: Array<[string, number, number]> = [
    ["bytes=0-0", 0, 1],
    ["bytes=1000-1999", 1000, 1000],
    ["bytes=99000-", 99_000, 1000],
    ["bytes=-500", size - 500, 500],
    ["bytes=99990-200000", 99_990, 10],
  ];

  it("a single range → 206 with Content-Range and exactly those bytes, from the local and from the remote tier", async () => {
    const { storage } = await world();
    await storage.setItemRaw("videos:clip.webm", bytes);
    const files = createFileHandler(storage, { route: "/files/" });
    for (const tier of ["local", "remote"]) {
      if (tier === "remote") await storage.transferNow("videos:clip.webm");
      for (const [range, offset, length] of cases) {
        const response = await get(files, "/files/videos/clip.webm", { headers: { range } });
        expect(response.status, `${tier} ${range}`).toBe(206);
        expect(response.headers.get("content-range")).toBe(`bytes ${offset}-${offset + length - 1}/${size}`);
        expect(response.headers.get("content-length")).toBe(String(length));
        expect(sameBytes(await bytesOf(response), bytes.subarray(offset, offset + length))).toBe("same");
      }
    }
  });

  it("a range past the end → 416 with Content-Range: bytes */size; several ranges or a bad unit → 200 with everything", async () => {
    const { storage } = await world();
    await storage.setItemRaw("videos:clip.webm", bytes);
    const files = createFileHandler(storage, { route: "/files/" });
    const unsatisfiable = await get(files, "/files/videos/clip.webm", { headers: { range: `bytes=${size}-` } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers.get("content-range")).toBe(`bytes */${size}`);
    for (const range of ["bytes=0-1,5-9", "items=0-1", "bytes=9-2"]) {
      const whole = await get(files, "/files/videos/clip.webm", { headers: { range } });
      expect(whole.status, range).toBe(200);
      expect((await bytesOf(whole)).length).toBe(size);
    }
  });

  it("If-Range with a stale ETag → the whole file (200); with the current one → the range (206)", async () => {
    const { storage } = await world();
    await storage.setItemRaw("videos:clip.webm", bytes);
    const files = createFileHandler(storage, { route: "/files/" });
    const etag = (await get(files, "/files/videos/clip.webm", { method: "HEAD" })).headers.get("etag")!;
    const stale = await get(files, "/files/videos/clip.webm", { headers: { range: "bytes=0-9", "if-range": '"old"' } });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
    const fresh = await get(files, "/files/videos/clip.webm", { headers: { range: "bytes=0-9", "if-range": etag } });
    expect(fresh.status).toBe(206);
  });

  it("a range of a remote key is one ranged GetObject: s3rver serves only those bytes", async () => {
    const { storage, counting } = await world();
    const big = pattern(3 * 1024 * 1024);
    await storage.setItemRaw("videos:big.bin", big);
    await storage.transferNow("videos:big.bin");
    const files = createFileHandler(storage, { route: "/files/" });
    counting.reset();
    const response = await get(files, "/files/videos/big.bin", { headers: { range: "bytes=1048576-1049599" } });
    expect(sameBytes(await bytesOf(response), big.subarray(1_048_576, 1_049_600))).toBe("same");
    expect(counting.ranges).toEqual(["bytes=1048576-1049599"]);
    expect(counting.received()).toBe(1024);
  });

  it("a range of a local file reads only those bytes from disk (positional reads)", async () => {
    const { storage } = await world();
    const big = pattern(4 * 1024 * 1024);
    await storage.setItemRaw("videos:local.bin", big);
    const files = createFileHandler(storage, { route: "/files/" });
    // Count what every FileHandle reads while the range is served.
    const reads = await countFileReads();
    try {
      const response = await get(files, "/files/videos/local.bin", { headers: { range: "bytes=3000000-3000099" } });
      expect(sameBytes(await bytesOf(response), big.subarray(3_000_000, 3_000_100))).toBe("same");
    } finally {
      reads.restore();
    }
    expect(reads.bytes()).toBe(100);
  });

  it("drivers that cannot read ranges are sliced from their stream (memory tiers)", async () => {
    const storage = createQueuedStorage({ local: memory(), remote: memory(), delayed: true });
    await storage.setItemRaw("a.bin", bytes);
    const files = createFileHandler(storage);
    const response = await get(files, "/a.bin", { headers: { range: "bytes=50000-50009" } });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 50000-50009/${size}`);
    expect(sameBytes(await bytesOf(response), bytes.subarray(50_000, 50_010))).toBe("same");
    // Without size or time metadata there is no validator that would change with the bytes: none is sent.
    expect(response.headers.get("etag")).toBeNull();
    await storage.dispose();
  });
});

describe("serve: keys from the path are validated like every key", () => {
  it("empty segments, escaped separators, dot segments, control characters and oversize keys → 400; other methods → 405", async () => {
    const { storage } = await world();
    await storage.setItem("ok.txt", "fine");
    const files = createFileHandler(storage, { route: "/files/" });
    const bad = [
      "/files/",
      "/files/a//b.txt",
      "/files/a/",
      "/files/a%2Fb.txt",
      "/files/..%5Cetc%5Cpasswd",
      "/files/a%3Ab",
      "/files/%E0%A4%A",
      "/files/a%00b",
      `/files/${"k".repeat(1100)}`,
    ];
    for (const path of bad) {
      const response = await get(files, path);
      expect(response.status, path).toBe(400);
      expect(await response.text()).toMatch(/^Bad Request: /);
    }
    // Plain and %2e-encoded dot segments are resolved by URL parsing before the route is matched: never a key.
    expect((await get(files, "/files/%2e%2e/%2e%2e/etc/passwd")).status).toBe(404);
    expect((await get(files, "/files/ok.txt")).status).toBe(200);
    const del = await get(files, "/files/ok.txt", { method: "DELETE" });
    expect([del.status, del.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
  });
});

describe("serve: redirect to the remote URL once a key is remote", () => {
  it("streams while local, then answers 302 to a presigned s3rver URL that serves the bytes and ranges", async () => {
    const { storage, counting } = await world();
    const bytes = pattern(200_000);
    await storage.setItemRaw("videos:movie.webm", bytes);
    const files = createFileHandler(storage, { route: "/files/", redirect: true });
    const local = await get(files, "/files/videos/movie.webm");
    expect(local.status).toBe(200);
    expect(sameBytes(await bytesOf(local), bytes)).toBe("same");

    await storage.transferNow("videos:movie.webm");
    counting.reset();
    const redirected = await get(files, "/files/videos/movie.webm");
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get("cache-control")).toBe("no-store");
    const location = new URL(redirected.headers.get("location")!);
    expect(location.origin).toBe(s3.endpoint);
    expect(location.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(counting.received()).toBe(0); // nothing passed through the handler
    const fromS3 = await fetch(location);
    expect(fromS3.status).toBe(200);
    expect(sameBytes(await bytesOf(fromS3), bytes)).toBe("same");
    const ranged = await fetch(location, { headers: { range: "bytes=100-199" } });
    expect(ranged.status).toBe(206);
    expect(sameBytes(await bytesOf(ranged), bytes.subarray(100, 200))).toBe("same");
  });

  it("a redirect status and expiry can be chosen; s3rver refuses the URL once it expired and when it was tampered with", async () => {
    const { storage } = await world();
    await storage.setItem("notes:short.txt", "short-lived");
    await storage.transferNow("notes:short.txt");
    const files = createFileHandler(storage, { route: "/files/", redirect: { status: 307, expiresIn: 1 } });
    const redirected = await get(files, "/files/notes/short.txt");
    expect(redirected.status).toBe(307);
    const location = redirected.headers.get("location")!;
    expect(new URL(location).searchParams.get("X-Amz-Expires")).toBe("1");
    const tampered = location.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`);
    const forged = await fetch(tampered);
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("SignatureDoesNotMatch");
    // X-Amz-Date has whole seconds: after 2.1 s a 1 s URL has expired whatever the sub-second start.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const expired = await fetch(location);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain("Request has expired");
  });
});
