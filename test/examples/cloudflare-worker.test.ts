import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStash, type QStashStandIn } from "../support/qstash-server.ts";
import { requireRedis } from "../support/redis.ts";
import { standInS3, startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { startUpstashProxy, type UpstashProxy } from "../support/upstash-proxy.ts";
import { bundleFor, CONDITIONS } from "../runtimes/_host/bundle.ts";
import { freePort } from "../support/ports.ts";
import { ROOT, sourceAliases } from "./_aliases.ts";
import { servicesEnv } from "./_services.ts";

// examples/cloudflare-worker bundled as wrangler would (workerd conditions) and served by workerd through miniflare on
// a real loopback port, with an R2 binding as the local tier: an upload, QStash (the stand-in) calling the Worker's
// webhook, the transfer R2 → S3 (s3rver) inside workerd, state in Redis through the Upstash REST API.
describe("examples/cloudflare-worker under workerd", () => {
  let mf: Miniflare | undefined;
  let origin: string;
  let s3: S3rverHandle;
  let upstash: UpstashProxy;
  let qstash: QStashStandIn;
  let code: string;
  let compatibilityDate: string;

  beforeAll(async () => {
    await requireRedis();
    [s3, upstash, qstash] = await Promise.all([startS3rver({ bucket: "worker-archive" }), startUpstashProxy(), startQStash()]);
    const wrangler = await readFile(join(ROOT, "examples/cloudflare-worker/wrangler.toml"), "utf8");
    compatibilityDate = /compatibility_date = "([^"]+)"/.exec(wrangler)![1]!;
    ({ code } = await bundleFor("examples/cloudflare-worker/src/index.ts", {
      conditions: CONDITIONS.workerd,
      format: "esm",
      aliases: sourceAliases(),
    }));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    mf = new Miniflare({
      modules: [{ type: "ESModule", path: "worker.mjs", contents: code }],
      compatibilityDate,
      host: "127.0.0.1",
      port,
      r2Buckets: ["UPLOADS"],
      bindings: {
        PUBLIC_URL: origin,
        ...servicesEnv(s3, qstash, upstash),
      },
    });
    await mf.ready;
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
    await Promise.all([s3?.stop(), upstash?.stop(), qstash?.stop()]);
  });

  it("uploads to R2, QStash delivers to the Worker's webhook, the bytes reach S3 and reads follow", async () => {
    const bytes = new Uint8Array(400_000).map((_, i) => (i * 17) & 0xff);
    qstash.pause();
    const put = await fetch(`${origin}/files/avatars/ada.png`, { method: "PUT", body: bytes });
    expect(put.status, await put.clone().text()).toBe(201);
    expect(((await put.json()) as { status: { state: string } }).status.state).toBe("queued");
    const early = await fetch(`${origin}/files/avatars/ada.png`);
    expect(early.headers.get("x-queued-state")).toBe("queued");
    expect(Buffer.compare(Buffer.from(await early.arrayBuffer()), bytes)).toBe(0);

    qstash.resume();
    await qstash.idle();
    expect(qstash.deliveries.map((d) => [new URL(d.url).pathname, d.status])).toEqual([["/_queued-storage/transfer", 200]]);
    const remote = standInS3(s3);
    expect(Buffer.compare((await remote.getItemRaw!("avatars:ada.png", {})) as Uint8Array, bytes)).toBe(0);
    const late = await fetch(`${origin}/files/avatars/ada.png`);
    expect(late.headers.get("x-queued-state")).toBe("remote");
    expect(Buffer.compare(Buffer.from(await late.arrayBuffer()), bytes)).toBe(0);
  });

  it("refuses an unsigned call of the webhook (401)", async () => {
    const response = await fetch(`${origin}/_queued-storage/transfer`, { method: "POST", body: "{}" });
    expect(response.status).toBe(401);
  });

  it("offline (no QStash, Upstash or S3 secrets): GET and PUT work on the in-isolate queue, state and memory remote", async () => {
    const port = await freePort();
    const offline = new Miniflare({
      modules: [{ type: "ESModule", path: "worker.mjs", contents: code }],
      compatibilityDate,
      host: "127.0.0.1",
      port,
      r2Buckets: ["UPLOADS"],
      bindings: { PUBLIC_URL: `http://127.0.0.1:${port}` },
    });
    try {
      await offline.ready;
      const at = `http://127.0.0.1:${port}`;
      expect((await fetch(`${at}/files/nothing.txt`)).status).toBe(404);
      const bytes = new Uint8Array(100_000).map((_, i) => (i * 5) & 0xff);
      const put = await fetch(`${at}/files/offline/a.bin`, { method: "PUT", body: bytes });
      expect(put.status, await put.clone().text()).toBe(201);
      let state = "";
      for (let i = 0; i < 100 && state !== "remote"; i++) {
        const read = await fetch(`${at}/files/offline/a.bin`);
        expect(Buffer.compare(Buffer.from(await read.arrayBuffer()), bytes)).toBe(0);
        state = read.headers.get("x-queued-state") ?? "";
        if (state !== "remote") await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(state).toBe("remote");
      expect((await fetch(`${at}/_queued-storage/transfer`, { method: "POST", body: "{}" })).status).toBe(404);
    } finally {
      await offline.dispose();
    }
  });
});
