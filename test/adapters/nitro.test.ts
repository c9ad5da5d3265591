import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHeaderLogProxy, type HeaderLogProxy } from "../support/header-log-proxy.ts";
import { startQStash, signQStashJwt, type QStashStandIn } from "../support/qstash-server.ts";
import { requireRedis } from "../support/redis.ts";
import { standInS3, startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { startUpstashProxy, type UpstashProxy } from "../support/upstash-proxy.ts";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { buildNitroExample, nitroEnv, startNitroServer, type BuiltNitroApp, type NitroMajor, type RunningServer } from "./_nitro-app.ts";

// The example of each major built for real (examples/nitro with nitropack 2, examples/nitro3 with nitro 3; preset
// node-server) and served from .output: an upload through a route that uses useStorage("uploads"), the QStash stand-in
// delivering the signed job to the module's webhook, the bytes read back from s3rver. All configuration reaches the
// built server as NITRO_QUEUED_STORAGE_* env. The examples' file route takes code options (serve.options:
// file-options.ts): a bearer token for reads and writes, image uploads.
const TOKEN = "files-token-7f3a";
const auth = { authorization: `Bearer ${TOKEN}` };

describe.each<NitroMajor>(["nitropack 2", "nitro 3"])("adapters/nitro: the module in a built %s app", (major) => {
  let app: BuiltNitroApp | undefined;
  let server: RunningServer | undefined;
  let s3: S3rverHandle;
  let upstash: UpstashProxy;
  let qstash: QStashStandIn;
  let s3Log: HeaderLogProxy;

  beforeAll(async () => {
    await requireRedis();
    [s3, upstash, qstash] = await Promise.all([startS3rver({ bucket: "nitro-uploads" }), startUpstashProxy(), startQStash()]);
    s3Log = await startHeaderLogProxy(s3.endpoint);
    app = await buildNitroExample(major);
    console.log(`[nitro] ${major} example built in ${app.buildMs} ms`);
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await app?.remove();
    await Promise.all([s3Log?.stop(), s3?.stop(), upstash?.stop(), qstash?.stop()]);
  });

  const remote = () => standInS3(s3);

  it("serves the built app: upload, signed transfer through the webhook, read back from S3", async () => {
    server = await startNitroServer(app!.dir, (origin) => ({
      // The app reaches s3rver through the logging proxy, so that the test sees which HTTP client it used.
      ...nitroEnv(app!.dir, origin, { s3: { ...s3, endpoint: s3Log.endpoint }, qstash, upstash }, `nitro-${Date.now()}`),
      NITRO_FILES_TOKEN: TOKEN,
    }));
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 13) & 0xff);

    qstash.pause(); // hold the delivery: first the read from the local copy
    const upload = await fetch(`${server.origin}/uploads/photos/cat.jpg`, { method: "PUT", body: bytes });
    expect(upload.status, await upload.clone().text()).toBe(201);
    expect(await upload.json()).toEqual({ key: "photos:cat.jpg" });
    const early = await fetch(`${server.origin}/uploads/photos/cat.jpg`);
    expect(early.headers.get("x-queued-state")).toBe("queued");
    expect(Buffer.compare(Buffer.from(await early.arrayBuffer()), bytes)).toBe(0);
    expect(await remote().hasItem("photos/cat.jpg", {})).toBe(false);

    qstash.resume();
    await qstash.idle();
    expect(qstash.deliveries.map((d) => [new URL(d.url).pathname, d.status])).toEqual([["/_queued-storage/transfer", 200]]);
    const stored = await remote().getItemRaw!("photos:cat.jpg", {});
    expect(Buffer.compare(stored as Uint8Array, bytes)).toBe(0);
    const late = await fetch(`${server.origin}/uploads/photos/cat.jpg`);
    expect([late.headers.get("x-queued-state"), late.headers.get("x-queued-tier")]).toEqual(["remote", "remote"]);
    expect(Buffer.compare(Buffer.from(await late.arrayBuffer()), bytes)).toBe(0);
    // The module's file route (serve: { route: "/files" }) serves the same bytes, with validators and ranges.
    const whole = await fetch(`${server.origin}/files/photos/cat.jpg`, { headers: auth });
    expect([whole.status, whole.headers.get("content-type"), whole.headers.get("content-length")]).toEqual([200, "image/jpeg", "300000"]);
    expect(Buffer.compare(Buffer.from(await whole.arrayBuffer()), bytes)).toBe(0);
    const etag = whole.headers.get("etag")!;
    expect((await fetch(`${server.origin}/files/photos/cat.jpg`, { headers: { ...auth, "if-none-match": etag } })).status).toBe(304);
    const part = await fetch(`${server.origin}/files/photos/cat.jpg`, { headers: { ...auth, range: "bytes=1000-1999" } });
    expect([part.status, part.headers.get("content-range")]).toEqual([206, "bytes 1000-1999/300000"]);
    expect(Buffer.compare(Buffer.from(await part.arrayBuffer()), Buffer.from(bytes.subarray(1000, 2000)))).toBe(0);
    // The transfer state went through Upstash (flags: "upstash"), not the process memory.
    expect(upstash.requests.some((r) => JSON.stringify(r.commands).includes("photos:cat.jpg"))).toBe(true);
    // examples/nitro sets the remote's `fetch: "node"`: its S3 requests come from node:http, without the headers
    // undici's fetch adds (sec-fetch-mode); examples/nitro3 keeps the default fetch, which sends them.
    const put = s3Log.requests.find((r) => r.method === "PUT" && r.path.endsWith("/photos/cat.jpg"));
    expect(put?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
    expect(put?.headers["sec-fetch-mode"]).toBe(major === "nitropack 2" ? undefined : "cors");
  }, 60_000);

  it("without QStash, Upstash and S3 variables: one startup warning naming them; uploads, transfers and reads work offline", async () => {
    const offline = await startNitroServer(app!.dir, () => ({ NITRO_QUEUED_STORAGE_LOCAL_BASE: `${app!.dir}/.data/offline-uploads`, NITRO_FILES_TOKEN: TOKEN }));
    try {
      const bytes = new Uint8Array(50_000).map((_, i) => (i * 7) & 0xff);
      const upload = await fetch(`${offline.origin}/uploads/offline/a.bin`, { method: "PUT", body: bytes });
      expect(upload.status, `${await upload.clone().text()}\n${offline.output()}`).toBe(201);
      let state = "";
      for (let i = 0; i < 100 && state !== "remote"; i++) {
        const read = await fetch(`${offline.origin}/uploads/offline/a.bin`);
        expect(Buffer.compare(Buffer.from(await read.arrayBuffer()), bytes)).toBe(0);
        state = read.headers.get("x-queued-state") ?? "";
        if (state !== "remote") await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(state, offline.output()).toBe("remote");
      const warnings = offline.output().split("\n").filter((line) => line.includes("[queued-storage] [nitro] not set:"));
      expect(warnings, offline.output()).toHaveLength(1);
      for (const name of ["QSTASH_TOKEN", "NITRO_QUEUED_STORAGE_QSTASH_URL", "UPSTASH_REDIS_REST_URL", "NITRO_QUEUED_STORAGE_REMOTE_BUCKET"]) {
        expect(warnings[0]).toContain(name);
      }
    } finally {
      await offline.stop();
    }
  }, 60_000);

  it("serve.options (file-options.ts): reads and PUT uploads need the token, only images are taken, its cacheControl wins over config", async () => {
    const files = `${server!.origin}/files`;
    // No Authorization: the Response authorize returned (401 with a challenge); a wrong token: authorize's false (403).
    const anonymous = await fetch(`${files}/photos/cat.jpg`);
    expect([anonymous.status, anonymous.headers.get("www-authenticate")]).toEqual([401, 'Bearer realm="files"']);
    expect((await fetch(`${files}/photos/cat.jpg`, { headers: { authorization: "Bearer wrong" } })).status).toBe(403);
    const allowed = await fetch(`${files}/photos/cat.jpg`, { headers: auth });
    // The file's "private, no-cache" over the config's default "no-cache".
    expect([allowed.status, allowed.headers.get("cache-control")]).toEqual([200, "private, no-cache"]);
    expect((await allowed.arrayBuffer()).byteLength).toBe(300_000);

    // PUT through the module's route (upload: { types: ["image/*"] }): 201 with the transfer state, then the same
    // bytes through the route and through useStorage("uploads") (the example's /uploads route).
    const png = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
    const put = await fetch(`${files}/photos/dog.png`, { method: "PUT", body: png, headers: { ...auth, "content-type": "image/png" } });
    expect(put.status, await put.clone().text()).toBe(201);
    expect(await put.json()).toMatchObject({ key: "photos:dog.png", state: "queued" });
    const viaRoute = await fetch(`${files}/photos/dog.png`, { headers: auth });
    expect([viaRoute.status, viaRoute.headers.get("content-type")]).toEqual([200, "image/png"]);
    expect(Buffer.compare(Buffer.from(await viaRoute.arrayBuffer()), png)).toBe(0);
    const viaStorage = await fetch(`${server!.origin}/uploads/photos/dog.png`);
    expect(Buffer.compare(Buffer.from(await viaStorage.arrayBuffer()), png)).toBe(0);

    // Refused writes store nothing: another type (415), an image type on an .html key (415), no token (401).
    const html = await fetch(`${files}/pages/a.html`, { method: "PUT", body: "<script>", headers: { ...auth, "content-type": "text/html" } });
    expect(html.status).toBe(415);
    const disguised = await fetch(`${files}/pages/b.html`, { method: "PUT", body: "<script>", headers: { ...auth, "content-type": "image/png" } });
    expect(disguised.status).toBe(415);
    const unsigned = await fetch(`${files}/photos/c.png`, { method: "PUT", body: png, headers: { "content-type": "image/png" } });
    expect(unsigned.status).toBe(401);
    for (const key of ["pages/a.html", "pages/b.html", "photos/c.png"]) {
      expect((await fetch(`${files}/${key}`, { headers: auth })).status, key).toBe(404);
    }
    await qstash.idle(); // dog.png's transfer job is delivered before the servers stop
  });

  it(`the server bundle holds only ${major === "nitro 3" ? "h3 2" : "h3 1"}: the webhook converts no event with the other major`, async () => {
    const files = await readdir(join(app!.dir, ".output/server"), { recursive: true });
    const code = (await Promise.all(files.filter((f) => f.endsWith(".mjs")).map((f) => readFile(join(app!.dir, ".output/server", f), "utf8")))).join("\n");
    expect(code).toContain("_mountQueuedStorage");
    // h3 1's request converter is what Nitro 2's webhook uses; on Nitro 3 it must not be there at all.
    if (major === "nitro 3") expect(code).not.toMatch(/function toWebRequest\b/);
    else expect(code).toMatch(/function toWebRequest\b/);
  });

  it("the webhook refuses a delivery signed with another key (401)", async () => {
    const url = `${server!.origin}/_queued-storage/transfer`;
    const body = JSON.stringify({ key: "photos:cat.jpg", generation: 1 });
    const response = await fetch(url, { method: "POST", body, headers: { "upstash-signature": signQStashJwt({ key: "sig_wrong", url, body }) } });
    expect(response.status).toBe(401);
  });
});
