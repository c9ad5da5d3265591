import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStorage } from "unstorage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fsDriver from "../../../src/drivers/fs/index.ts";
import s3Driver, { type S3DriverOptions } from "../../../src/drivers/s3/index.ts";
import { standInOptions, startS3rver, type S3rverHandle } from "../../support/s3rver.ts";
import { testDriver } from "../../support/unstorage-test-driver.ts";
import { MiB, digestStream, generatedStream } from "../_streams.ts";

let server: S3rverHandle;
beforeAll(async () => {
  server = await startS3rver();
});
afterAll(async () => {
  await server?.stop();
});

const connection = (extra: Partial<S3DriverOptions> = {}): S3DriverOptions => standInOptions(server, extra);

interface Sent {
  operation: string;
  url: string;
  headers: Headers;
  size?: number;
}

/** A fetch that records what the driver sends and may answer instead of s3rver (`intercept` returning a Response). */
function recording(intercept?: (sent: Sent, attempt: number) => Response | undefined): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const attempts = new Map<string, number>();
  const wrapped = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = init?.method ?? "GET";
    const body = init?.body;
    const headers = new Headers(init?.headers);
    // Large byte bodies go as streams with an explicit Content-Length (see drivers/s3/_request.ts).
    const size = body instanceof ReadableStream ? Number(headers.get("content-length")) : body instanceof Uint8Array ? body.byteLength : typeof body === "string" ? body.length : undefined;
    const entry: Sent = { operation: operationOf(method, url), url, headers, size };
    sent.push(entry);
    const id = `${method} ${url}`;
    attempts.set(id, (attempts.get(id) ?? 0) + 1);
    return intercept?.(entry, attempts.get(id)!) ?? fetch(input, init);
  }) as typeof fetch;
  return { fetch: wrapped, sent };
}

function operationOf(method: string, url: string): string {
  const query = new URL(url).searchParams;
  if (method === "POST" && query.has("uploads")) return "CreateMultipartUpload";
  if (method === "PUT" && query.has("uploadId")) return "UploadPart";
  if (method === "POST" && query.has("uploadId")) return "CompleteMultipartUpload";
  if (method === "DELETE" && query.has("uploadId")) return "AbortMultipartUpload";
  if (method === "POST" && query.has("delete")) return "DeleteObjects";
  if (method === "GET" && query.get("list-type") === "2") return "ListObjectsV2";
  return { PUT: "PutObject", GET: "GetObject", HEAD: "HeadObject", DELETE: "DeleteObject" }[method] ?? method;
}

const count = (sent: Sent[], operation: string): number => sent.filter((s) => s.operation === operation).length;

/** In-progress multipart uploads of the bucket, through a signed ListMultipartUploads. */
async function pendingUploads(): Promise<string[]> {
  const driver = s3Driver(connection());
  const { client } = driver.getInstance!();
  const response = await client.fetch(`${server.endpoint}/${server.bucket}?uploads=`);
  expect(response.status).toBe(200);
  return [...(await response.text()).matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!);
}

describe("drivers: s3 — unstorage contract against s3rver with verified SigV4", () => {
  testDriver({ driver: () => s3Driver(connection({ base: "contract" })) });
});

describe("drivers: s3 — listing and clearing", () => {
  it("lists 1,500 keys under a prefix across ListObjectsV2 pages, and nothing outside it", async () => {
    const { fetch, sent } = recording();
    const driver = s3Driver(connection({ base: "listing", fetch }));
    const storage = createStorage({ driver });
    const keys = Array.from({ length: 1500 }, (_, i) => `many:k${String(i).padStart(4, "0")}`);
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((key) => driver.setItem!(key, "v", {})));
    }
    await driver.setItem!("many-not:x", "outside", {});
    await driver.setItem!("other:y", "outside", {});
    sent.length = 0;

    const listed = await driver.getKeys("many:", {});
    expect(listed.length).toBe(1500);
    expect(listed.sort()).toEqual(keys);
    const lists = sent.filter((s) => s.operation === "ListObjectsV2").map((s) => new URL(s.url).searchParams);
    expect(lists.length).toBe(2);
    expect(lists.every((q) => q.get("prefix") === "listing/many/")).toBe(true);
    expect(lists[1]!.get("continuation-token")).toBeTruthy();
    expect((await storage.getKeys("many")).length).toBe(1500);

    // clear(base) deletes under the base only, in DeleteObjects batches of at most 1,000 keys.
    sent.length = 0;
    await driver.clear!("many:", {});
    const deletes = sent.filter((s) => s.operation === "DeleteObjects");
    expect(deletes.length).toBe(2);
    expect(await driver.getKeys("many:", {})).toEqual([]);
    expect((await driver.getKeys("", {})).sort()).toEqual(["many-not:x", "other:y"]);
    await driver.clear!("", {});
    expect(await driver.getKeys(undefined as unknown as string, {})).toEqual([]);
  });

  it("filters by depth itself (flags.maxDepth), counting from the driver's root", async () => {
    const driver = s3Driver(connection({ base: "depth" }));
    expect(driver.flags).toMatchObject({ maxDepth: true, streams: true });
    for (const key of ["a", "b:c", "b:d:e", "b:d:f:g"]) await driver.setItem!(key, "v", {});
    expect((await driver.getKeys("", { maxDepth: 0 })).sort()).toEqual(["a"]);
    expect((await driver.getKeys("", { maxDepth: 1 })).sort()).toEqual(["a", "b:c"]);
    expect((await driver.getKeys("b:", { maxDepth: 2 })).sort()).toEqual(["b:c", "b:d:e"]);
    expect((await driver.getKeys("b:", {})).sort()).toEqual(["b:c", "b:d:e", "b:d:f:g"]);
    await driver.clear!("", {});
  });

  it("clear(base) stops at the separator: clearing `a` keeps `ab:*` and `b:*`", async () => {
    const driver = s3Driver(connection({ base: "scope" }));
    for (const key of ["a:1", "a:2:3", "ab:1", "b:1"]) await driver.setItem!(key, "v", {});
    await driver.clear!("a", {});
    expect((await driver.getKeys("", {})).sort()).toEqual(["ab:1", "b:1"]);
    await driver.clear!("", {});
    expect(await driver.getKeys("", {})).toEqual([]);
  });

  it("keeps `base` as a prefix in the bucket: another driver sees the objects under it", async () => {
    await s3Driver(connection({ base: "tenant:one" })).setItem!("doc.txt", "hi", {});
    const root = s3Driver(connection());
    expect(await root.getKeys("tenant:", {})).toEqual(["tenant:one:doc.txt"]);
    expect(await root.getItem("tenant:one:doc.txt", {})).toBe("hi");
    await root.clear!("tenant", {});
  });
});

describe("drivers: s3 — keys", () => {
  const odd = ["with space:a b", "amp:a&b", "plus:1+1=2", "unicode:naïve-✓-日本", "marks:it's (a)!*~", "percent:100%25", "xml:<tag>\"q\""];

  it("round-trips keys with spaces, &, +, unicode, quotes and % through set, get, list, head and remove", async () => {
    const driver = s3Driver(connection({ base: "odd keys" }));
    for (const key of odd) await driver.setItem!(key, `value of ${key}`, {});
    for (const key of odd) {
      expect(await driver.getItem(key, {})).toBe(`value of ${key}`);
      expect(await driver.hasItem(key, {})).toBe(true);
    }
    expect((await driver.getKeys("", {})).sort()).toEqual([...odd].sort());
    for (const key of odd) await driver.removeItem!(key, {});
    expect(await driver.getKeys("", {})).toEqual([]);
  });

  it("rejects `.` and `..` segments and empty keys with an error naming the key, before any request", async () => {
    const { fetch, sent } = recording();
    const driver = s3Driver(connection({ fetch }));
    await expect(driver.getItem("a:..:b", {})).rejects.toThrow(/Invalid key "a:\.\.:b"/);
    await expect(driver.setItem!("./x", "v", {})).rejects.toThrow(/Invalid key/);
    await expect(driver.hasItem("", {})).rejects.toThrow(/Invalid key/);
    expect(sent).toEqual([]);
  });

  it("builds path-style and virtual-hosted URLs with each key segment encoded", () => {
    const options = { bucket: "media", accessKeyId: "id", secretAccessKey: "secret", endpoint: "https://s3.eu-west-1.amazonaws.com" };
    expect(s3Driver(options).getInstance!().url("a b:c+d")).toBe("https://s3.eu-west-1.amazonaws.com/media/a%20b/c%2Bd");
    expect(s3Driver({ ...options, addressing: "virtual-hosted", base: "x" }).getInstance!().url("é(1)")).toBe(
      "https://media.s3.eu-west-1.amazonaws.com/x/%C3%A9%281%29",
    );
  });
});

describe("drivers: s3 — values, streams and metadata", () => {
  it("accepts Uint8Array, ArrayBuffer, Blob, ReadableStream and string in setItemRaw", async () => {
    const driver = s3Driver(connection({ base: "raw" }));
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const values: Record<string, unknown> = {
      u8: bytes,
      ab: bytes.slice().buffer,
      blob: new Blob([bytes]),
      stream: new Blob([bytes]).stream(),
      text: "\u0000\u0001\u0002",
    };
    for (const [key, value] of Object.entries(values)) await driver.setItemRaw!(key, value, {});
    for (const key of ["u8", "ab", "blob", "stream"]) {
      expect(await driver.getItemRaw!(key, {})).toEqual(bytes);
    }
    expect(await driver.getItemRaw!("text", {})).toEqual(new Uint8Array([0, 1, 2]));
    await expect(driver.setItemRaw!("bad", { not: "bytes" }, {})).rejects.toThrow(/setItemRaw\("raw\/bad"\): unsupported value of type Object/);
    await driver.clear!("", {});
  });

  it("getItemRaw with { type: 'stream' } hands over the response body as a stream; missing keys are null", async () => {
    const driver = s3Driver(connection({ base: "stream-read" }));
    await driver.setItemRaw!("file.bin", new Uint8Array(3 * MiB).fill(7), {});
    const stream = await driver.getItemRaw!("file.bin", { type: "stream" });
    expect(stream).toBeInstanceOf(ReadableStream);
    const reader = (stream as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    // A stream, not a buffered body: the first chunk is a fraction of the object.
    expect(first.value!.byteLength).toBeLessThan(3 * MiB);
    await reader.cancel();
    expect(await driver.getItemRaw!("missing.bin", { type: "stream" })).toBeNull();
    expect(await driver.getItemRaw!("missing.bin", {})).toBeNull();
    await driver.clear!("", {});
  });

  it("sends known-length values as one PutObject with Content-Length and a signed SHA-256 payload hash", async () => {
    const { fetch, sent } = recording();
    const driver = s3Driver(connection({ base: "single", fetch }));
    await driver.setItemRaw!("small.bin", new Uint8Array(1000).fill(1), {});
    await driver.setItemRaw!("small-stream.bin", new Blob([new Uint8Array(1000)]).stream(), {});
    const puts = sent.filter((s) => s.operation === "PutObject");
    expect(puts.length).toBe(2);
    for (const put of puts) {
      expect(put.size).toBe(1000);
      expect(put.headers.get("x-amz-content-sha256")).toMatch(/^[0-9a-f]{64}$/);
      expect(put.headers.get("authorization")).toContain("x-amz-content-sha256");
    }
    expect(count(sent, "CreateMultipartUpload")).toBe(0);
    await driver.clear!("", {});
  });

  it("a body altered in transit is rejected by the server (the payload hash is verified), not stored", async () => {
    const corrupting = (async (input: string | URL | Request, init?: RequestInit) => {
      if (init?.method === "PUT" && init.body instanceof Uint8Array) {
        const body = new Uint8Array(init.body);
        body[0] = body[0]! ^ 0xff;
        return fetch(input, { ...init, body });
      }
      return fetch(input, init);
    }) as typeof fetch;
    const driver = s3Driver(connection({ base: "corrupt", fetch: corrupting }));
    await expect(driver.setItem!("x.txt", "hello", {})).rejects.toThrow(/PutObject failed for "corrupt\/x.txt".*400 XAmzContentSHA256Mismatch/);
    expect(await s3Driver(connection({ base: "corrupt" })).hasItem("x.txt", {})).toBe(false);
  });

  it("sets Content-Type by extension, by option or per call, plus Cache-Control and user metadata; getMeta returns them", async () => {
    const driver = s3Driver(connection({ base: "types", cacheControl: "max-age=60" }));
    await driver.setItem!("a.json", "{}", {});
    await driver.setItemRaw!("b.png", new Uint8Array([137, 80]), {});
    await driver.setItem!("plain", "text", {});
    await driver.setItemRaw!("blob", new Uint8Array([1]), {});
    await driver.setItemRaw!("big.mp4", generatedStream(6 * MiB).stream, {});
    await driver.setItem!("custom", "x", { headers: { "Content-Type": "text/csv", "x-amz-meta-owner": "ada" } });
    const type = async (key: string): Promise<unknown> => (await driver.getMeta!(key, {}))?.type;
    expect(await type("a.json")).toBe("application/json");
    expect(await type("b.png")).toBe("image/png");
    expect(await type("plain")).toBe("text/plain; charset=utf-8");
    expect(await type("blob")).toBe("application/octet-stream");
    expect(await type("big.mp4")).toBe("video/mp4");
    const meta = await driver.getMeta!("custom", {});
    expect(meta).toMatchObject({ type: "text/csv", owner: "ada", size: 1, cacheControl: "max-age=60" });
    expect(meta!.mtime).toBeInstanceOf(Date);
    expect(Math.abs((meta!.mtime as Date).getTime() - Date.now())).toBeLessThan(60_000);
    expect(meta!.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await driver.getMeta!("nope", {})).toBeNull();

    const fixed = s3Driver(connection({ base: "types", contentType: (key) => (key.endsWith(".dat") ? "application/x-dat" : undefined) }));
    await fixed.setItem!("c.dat", "x", {});
    await fixed.setItem!("d.json", "{}", {});
    expect(await type("c.dat")).toBe("application/x-dat");
    expect(await type("d.json")).toBe("application/json");
    await driver.clear!("", {});
  });
});

describe("drivers: s3 — multipart uploads", () => {
  it("uploads a 64 MiB stream as a multipart upload and reads it back byte-identical", async () => {
    const { fetch, sent } = recording();
    const driver = s3Driver(connection({ base: "multipart", fetch }));
    const source = generatedStream(64 * MiB, { seed: 42 });
    const started = performance.now();
    await driver.setItemRaw!("video.bin", source.stream, {});
    const uploaded = performance.now();
    const read = await digestStream((await driver.getItemRaw!("video.bin", { type: "stream" })) as ReadableStream<Uint8Array>);
    const finished = performance.now();
    console.log(`[s3] 64 MiB multipart: upload ${(uploaded - started).toFixed(0)} ms, streamed read ${(finished - uploaded).toFixed(0)} ms`);

    expect(read).toEqual({ size: 64 * MiB, sha256: await source.sha256 });
    expect(count(sent, "CreateMultipartUpload")).toBe(1);
    expect(count(sent, "UploadPart")).toBe(8);
    expect(count(sent, "CompleteMultipartUpload")).toBe(1);
    expect(count(sent, "PutObject")).toBe(0);
    const parts = sent.filter((s) => s.operation === "UploadPart");
    expect(parts.every((p) => p.size === 8 * MiB && /^[0-9a-f]{64}$/.test(p.headers.get("x-amz-content-sha256")!))).toBe(true);
    expect((await driver.getMeta!("video.bin", {}))?.size).toBe(64 * MiB);
    expect(await pendingUploads()).toEqual([]);
    await driver.clear!("", {});
  });

  it("reads byte streams (fs files, fetch bodies) straight into the parts: a file from the fs driver arrives intact", async () => {
    const dir = await mkdtemp(join(tmpdir(), "queued-storage-s3-byob-"));
    try {
      const local = fsDriver({ base: dir });
      const source = generatedStream(21 * MiB + 123, { seed: 9, bytes: true });
      await local.setItemRaw!("clip.bin", source.stream, {});
      const { fetch, sent } = recording();
      const driver = s3Driver(connection({ base: "byob", fetch }));
      await driver.setItemRaw!("clip.bin", await local.getItemRaw!("clip.bin", { type: "stream" }), {});
      expect(sent.filter((s) => s.operation === "UploadPart").map((s) => s.size)).toEqual([8 * MiB, 8 * MiB, 5 * MiB + 123]);
      const read = await digestStream((await driver.getItemRaw!("clip.bin", { type: "stream" })) as ReadableStream<Uint8Array>);
      expect(read).toEqual({ size: 21 * MiB + 123, sha256: await source.sha256 });
      await driver.clear!("", {});
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a source stream failing mid-upload rejects, aborts the upload and leaves no parts or object behind", async () => {
    const { fetch, sent } = recording();
    const driver = s3Driver(connection({ base: "failing", fetch, partSize: 5 * MiB }));
    const source = generatedStream(64 * MiB, { failAfter: 17 * MiB });
    await expect(driver.setItemRaw!("broken.bin", source.stream, {})).rejects.toThrow(
      /UploadPart failed for "failing\/broken.bin" in bucket "queued-storage-test": reading the value failed: source failed after/,
    );
    expect(count(sent, "UploadPart")).toBeGreaterThanOrEqual(3);
    expect(count(sent, "CompleteMultipartUpload")).toBe(0);
    const abort = sent.find((s) => s.operation === "AbortMultipartUpload");
    expect(abort).toBeDefined();
    expect(await pendingUploads()).toEqual([]);
    // The aborted upload id is gone: ListParts answers NoSuchUpload.
    const listParts = await driver.getInstance!().client.fetch(abort!.url, { method: "GET" });
    expect(listParts.status).toBe(404);
    expect(await listParts.text()).toContain("NoSuchUpload");
    expect(await driver.hasItem("broken.bin", {})).toBe(false);
  });

  it("a part the server keeps refusing (500) is retried, then the upload is aborted and the error says so", async () => {
    const { fetch, sent } = recording((request) => {
      const part = new URL(request.url).searchParams.get("partNumber");
      return request.operation === "UploadPart" && part === "2" ? new Response("<Error><Code>InternalError</Code><Message>boom</Message></Error>", { status: 500 }) : undefined;
    });
    const driver = s3Driver(connection({ base: "failing", fetch, partSize: 5 * MiB, retries: 2, retryDelay: 1 }));
    await expect(driver.setItemRaw!("refused.bin", generatedStream(12 * MiB).stream, {})).rejects.toThrow(
      /UploadPart failed for "failing\/refused.bin" in bucket "queued-storage-test": 500 InternalError: boom \(gave up after 3 attempts\)/,
    );
    const partTwo = sent.filter((s) => s.operation === "UploadPart" && new URL(s.url).searchParams.get("partNumber") === "2");
    expect(partTwo.length).toBe(3);
    expect(count(sent, "AbortMultipartUpload")).toBe(1);
    expect(await pendingUploads()).toEqual([]);
    expect(await driver.hasItem("refused.bin", {})).toBe(false);
  });

  it("an AbortSignal stops a multipart upload and aborts it on S3", async () => {
    const { fetch, sent } = recording();
    const driver = s3Driver(connection({ base: "signal", fetch, partSize: 5 * MiB }));
    const controller = new AbortController();
    const source = generatedStream(64 * MiB);
    const reader = source.stream.getReader();
    let produced = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(c) {
        const { done, value } = await reader.read();
        if (done) return c.close();
        produced += value.byteLength;
        if (produced >= 12 * MiB) controller.abort(new Error("user cancelled"));
        c.enqueue(value);
      },
    });
    await expect(driver.setItemRaw!("cancelled.bin", slow, { signal: controller.signal })).rejects.toThrow("user cancelled");
    // One abort, sent again only if s3rver failed to answer it (a loaded machine); what counts is that none is left.
    expect(count(sent, "AbortMultipartUpload")).toBeGreaterThanOrEqual(1);
    expect(count(sent, "AbortMultipartUpload")).toBeLessThanOrEqual(1 + 3); // the first try and at most `retries` (3) more
    expect(count(sent, "CompleteMultipartUpload")).toBe(0);
    expect(await pendingUploads()).toEqual([]);
    expect(await driver.hasItem("cancelled.bin", {})).toBe(false);
  });

  it("rejects a part size under S3's 5 MiB minimum at first use, naming the option", async () => {
    const driver = s3Driver(connection({ partSize: 1024 }));
    await expect(driver.setItem!("x", "y", {})).rejects.toThrow(/`partSize` must be between 5 MiB and 5 GiB/);
  });
});

describe("drivers: s3 — retries and errors", () => {
  it("retries 503 and 429 with backoff, then succeeds", async () => {
    const { fetch, sent } = recording((request, attempt) => {
      if (request.operation === "PutObject" && attempt <= 2) return new Response("<Error><Code>SlowDown</Code></Error>", { status: 503 });
      if (request.operation === "GetObject" && attempt === 1) return new Response("", { status: 429, headers: { "retry-after": "0" } });
      return undefined;
    });
    const driver = s3Driver(connection({ base: "retry", fetch, retryDelay: 1 }));
    await driver.setItem!("k", "v", {});
    expect(await driver.getItem("k", {})).toBe("v");
    expect(count(sent, "PutObject")).toBe(3);
    expect(count(sent, "GetObject")).toBe(2);
    await driver.clear!("", {});
  });

  it("does not retry a 4xx answer", async () => {
    const { fetch, sent } = recording(() => new Response("<Error><Code>AccessDenied</Code><Message>no</Message></Error>", { status: 403 }));
    const driver = s3Driver(connection({ fetch, retryDelay: 1 }));
    await expect(driver.getItem("k", {})).rejects.toThrow(/GetObject failed for "k" in bucket "queued-storage-test": 403 AccessDenied: no$/);
    expect(sent.length).toBe(1);
  });

  it("retries network errors and names the operation when it gives up", async () => {
    const driver = s3Driver(connection({ endpoint: "http://127.0.0.1:1", retries: 1, retryDelay: 1 }));
    await expect(driver.hasItem("k", {})).rejects.toThrow(/HeadObject failed for "k" in bucket "queued-storage-test": fetch failed \(gave up after 2 attempts\)/);
  });

  it("errors name operation, bucket and key and never contain the secret or the signature", async () => {
    const secret = "wrong-secret-0123456789";
    const { fetch, sent } = recording();
    const driver = s3Driver(connection({ secretAccessKey: secret, fetch }));
    const error = await Promise.resolve(driver.setItem!("private:doc.txt", "x", {})).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/PutObject failed for "private\/doc.txt" in bucket "queued-storage-test": 403 SignatureDoesNotMatch/);
    const signature = /Signature=([0-9a-f]{64})/.exec(sent[0]!.headers.get("authorization")!)![1]!;
    for (const text of [error!.message, String(error!.stack), JSON.stringify(error)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(signature);
      expect(text).not.toContain("AWS4-HMAC-SHA256");
    }
  });

  it("validates options at first use, not at creation, naming the missing one; no request is sent", async () => {
    const { fetch, sent } = recording();
    const driver = s3Driver({ fetch } as unknown as S3DriverOptions);
    await expect(driver.getItem("k", {})).rejects.toThrow("[unstorage] [queued-storage:s3] Missing required option `endpoint`.");
    const noSecret = s3Driver({ endpoint: server.endpoint, bucket: "b", accessKeyId: "id", fetch } as S3DriverOptions);
    await expect(noSecret.hasItem("k", {})).rejects.toThrow("Missing required option `secretAccessKey`.");
    expect(sent).toEqual([]);
  });

  it("sends and signs a session token", async () => {
    const { fetch, sent } = recording();
    const driver = s3Driver(connection({ sessionToken: "session-token-value", fetch }));
    expect(await driver.hasItem("anything", {})).toBe(false);
    expect(sent[0]!.headers.get("x-amz-security-token")).toBe("session-token-value");
    expect(sent[0]!.headers.get("authorization")).toContain("x-amz-security-token");
  });

  it("dispose can be called more than once", async () => {
    const driver = s3Driver(connection());
    await driver.dispose!();
    await driver.dispose!();
  });
});
