import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStash, type QStashStandIn } from "../support/qstash-server.ts";
import { requireRedis } from "../support/redis.ts";
import { startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { startUpstashProxy, type UpstashProxy } from "../support/upstash-proxy.ts";
import { buildNitroExample, nitroEnv, startNitroServer, type BuiltNitroApp, type NitroMajor, type RunningServer } from "./_nitro-app.ts";

// The Nitro module's `status: { route }` in a real build of each major's example (the page's handler files bundled
// from the module's runtime), the token from env at run time.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TOKEN = "status-token-91c2";
const ROUTE = "/_queued-storage/status";

describe.each<NitroMajor>(["nitropack 2", "nitro 3"])("adapters/nitro: status page in a built %s app", (major) => {
  let app: BuiltNitroApp | undefined;
  let server: RunningServer | undefined;
  let s3: S3rverHandle;
  let upstash: UpstashProxy;
  let qstash: QStashStandIn;

  beforeAll(async () => {
    await requireRedis();
    [s3, upstash, qstash] = await Promise.all([startS3rver({ bucket: "nitro-status" }), startUpstashProxy(), startQStash()]);
    app = await buildNitroExample(major, join(ROOT, "src/adapters/nitro/index.ts"), {
      runtimeConfig: { queuedStorage: { status: { route: ROUTE, token: "" } } },
    });
    server = await startNitroServer(app.dir, (origin) => ({
      ...nitroEnv(app!.dir, origin, { s3, qstash, upstash }, `nitro-status-${Date.now()}`),
      NITRO_QUEUED_STORAGE_STATUS_TOKEN: TOKEN,
      NITRO_FILES_TOKEN: "unused",
    }));
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    await app?.remove();
    await Promise.all([s3?.stop(), upstash?.stop(), qstash?.stop()]);
  });

  it("asks for the token, then serves the page, its JSON and the metrics; refuses a cross-site POST", async () => {
    const page = `${server!.origin}${ROUTE}`;
    const anonymous = await fetch(page);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Basic realm="queued-storage"');
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const html = await fetch(page, { headers: { authorization: `Basic ${btoa(`ops:${TOKEN}`)}` } });
    expect(html.status, server!.output()).toBe(200);
    expect(await html.text()).toContain("<b>0</b><span>failed</span>");
    const json = await (await fetch(`${page}?format=json`, { headers: bearer })).json();
    expect(json.stats.counts).toEqual({ local: 0, queued: 0, transferring: 0, remote: 0, failed: 0 });
    const metrics = await fetch(`${page}/metrics`, { headers: bearer });
    expect(await metrics.text()).toContain('queued_storage_keys{state="failed"} 0');
    const post = await fetch(page, {
      method: "POST",
      headers: { ...bearer, "content-type": "application/json", origin: "https://evil.example" },
      body: JSON.stringify({ action: "sync" }),
    });
    expect(post.status).toBe(403);
    const sync = await fetch(page, { method: "POST", headers: { ...bearer, "content-type": "application/json" }, body: JSON.stringify({ action: "sync" }) });
    expect(await sync.json()).toMatchObject({ action: "sync", result: { queued: 0 } });
  });
});
