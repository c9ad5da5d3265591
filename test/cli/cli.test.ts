import { Client } from "@upstash/qstash";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fsDriver from "../../src/drivers/fs/index.ts";
import { createQueuedStorage, defineTask, storageFlags, transfer, type QueuedStorage } from "../../src/index.ts";
import { createTransferHandler, qstashQueue } from "../../src/queues/qstash.ts";
import { upstashFlags } from "../../src/flags/upstash.ts";
import { serveWebhook, type Webhook } from "../support/_qstash-webhook.ts";
import { startQStash, type QStashStandIn } from "../support/qstash-server.ts";
import { randomPrefix, redisDeleteMatching, requireRedis } from "../support/redis.ts";
import { startUpstashProxy, type UpstashProxy } from "../support/upstash-proxy.ts";
import { buildPackage, fixture, type BuiltPackage } from "./_built.ts";

// The bin of the built package (unbuild → dist/cli.mjs), run as a child process the way cron or an operator would, on
// a config it loads with c12: the embedded default (fs tiers, storageFlags) and Upstash + QStash (the stand-ins).

let built: BuiltPackage;
beforeAll(async () => {
  built = await buildPackage();
}, 600_000);
afterAll(async () => {
  await built?.remove();
});

const failing = defineTask({ name: "transfer", run: () => Promise.reject(new Error("remote unreachable (injected)")) });

describe("queued-storage CLI on the embedded default (fs tiers, storageFlags)", () => {
  it("shows a forced failure, exits 2 for cron, retries it to remote; state survives between runs", { timeout: 120_000 }, async () => {
    const cwd = await fixture(built, "embedded");
    const env = { QS_DATA: join(cwd, ".data") };
    const cli = (...args: string[]) => built.cli(cwd, args, env);
    // An app wrote three keys while the remote was down (same directories as the config's).
    const app = createQueuedStorage({
      local: fsDriver({ base: `${env.QS_DATA}/local` }),
      remote: fsDriver({ base: `${env.QS_DATA}/remote` }),
      flags: storageFlags(fsDriver({ base: `${env.QS_DATA}/state` })),
      task: failing,
      retries: 0,
    });
    for (const key of ["reports:q3.pdf", "avatars:1.png", "avatars:2.png"]) await app.setItem(key, `bytes of ${key}`);
    await app.drain();
    await app.dispose();

    const stats = await cli("stats", "--fail-on", "failed");
    expect(stats.code).toBe(2);
    expect(stats.stdout).toMatch(/^failed\s+3$/m);
    expect(stats.stdout).toContain("ALERT: 3 failed");
    expect(stats.stdout).toMatch(/oldest unfinished write: reports:q3\.pdf, \d+s old/);
    expect((await cli("stats")).code).toBe(0);

    const list = await cli("list", "--state", "failed");
    expect(list.code).toBe(0);
    expect(list.stdout.split("\n")[0]).toMatch(/^KEY\s+STATE\s+ATTEMPTS\s+UPDATED\s+ERROR$/);
    expect(list.stdout).toMatch(/^avatars:1\.png\s+failed\s+1\s+\S+ \S+Z\s+task "transfer" failed for "avatars:1\.png": remote unreachable \(injected\)$/m);
    const page = JSON.parse((await cli("list", "--state", "failed", "--limit", "2", "--json")).stdout);
    expect(page.items.map(([key]: [string]) => key)).toEqual(["avatars:1.png", "avatars:2.png"]);
    const rest = JSON.parse((await cli("list", "--state", "failed", "--cursor", page.cursor, "--json")).stdout);
    expect(rest).toMatchObject({ items: [["reports:q3.pdf", { state: "failed" }]], cursor: null });
    expect((await cli("list", "--prefix", "avatars:")).stdout).not.toContain("reports");

    const still = await built.cli(cwd, ["retry", "avatars:1.png"], { ...env, QS_BROKEN: "1" });
    expect(still.code).toBe(2); // retried, failed again: still an alert
    const one = await cli("retry", "avatars:1.png");
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^avatars:1\.png\s+remote\s+1/m);
    const status = await cli("status", "avatars:1.png");
    expect(status.stdout).toMatch(/^state\s+remote$/m);
    expect(status.stdout).toMatch(/^tier\s+remote$/m);
    expect(JSON.parse((await cli("status", "avatars:1.png", "--json")).stdout)).toMatchObject({ state: "remote", attempts: 1 });

    const all = await cli("retry", "--failed");
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^avatars:2\.png\s+remote/m);
    expect(all.stdout).toMatch(/^reports:q3\.pdf\s+remote/m);
    const after = await cli("stats", "--fail-on", "failed", "--json");
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ counts: { remote: 3, failed: 0 }, oldestPending: null, alerts: [] });

    expect((await cli("url", "reports:q3.pdf")).stdout.trim()).toBe("https://cdn.example.com/uploads/reports/q3.pdf");
    const redo = await cli("transfer", "reports:q3.pdf");
    expect(redo.code).toBe(0);
    expect(redo.stdout).toMatch(/^state\s+remote$/m);
    const sync = await cli("sync", "--verify");
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/^sync: queued 0, removals finished 0, waiting 0, ghosts dropped 0, remote mismatches 0$/m);
  });

  it("refuses bad input with exit 1 and one line on stderr, changing nothing", { timeout: 60_000 }, async () => {
    const cwd = await fixture(built, "embedded");
    const cli = (...args: string[]) => built.cli(cwd, args, { QS_DATA: join(cwd, ".data-bad") });
    const cases: Array<[string[], RegExp]> = [
      [["list", "--limit", "5000"], /`limit` must be an integer from 1 to 1000/],
      [["list", "--cursor", "garbage"], /`cursor` is not one that list\(\) issued/],
      [["list", "--state", "gone"], /`state` must be one of/],
      [["stats", "--fail-on", "broken"], /--fail-on: unknown state "broken"/],
      [["status", "missing"], /^$/],
      [["retry", "../etc/passwd"], /invalid key/],
      [["retry"], /give a key or --failed/],
      [["url", "x"], /.+/],
      [["stats", "--config", "nowhere.config.ts"], /.+/],
    ];
    for (const [args, stderr] of cases) {
      const result = await cli(...args);
      expect([args, result.code]).toEqual([args, 1]);
      expect(result.stderr, args.join(" ")).toMatch(stderr);
    }
    expect(JSON.parse((await cli("stats", "--json")).stdout).counts).toEqual({ local: 0, queued: 0, transferring: 0, remote: 0, failed: 0 });
  });
});

describe("queued-storage CLI: progress of a long transfer", () => {
  it("transfer <key> draws a bar on stderr while a 12 MiB upload runs, then prints the key remote", { timeout: 60_000 }, async () => {
    const cwd = await fixture(built, "slow");
    const data = join(cwd, ".data");
    const writer = createQueuedStorage({
      local: fsDriver({ base: `${data}/local` }),
      remote: fsDriver({ base: `${data}/remote` }),
      flags: storageFlags(fsDriver({ base: `${data}/state` })),
      delayed: true,
    });
    await writer.setItemRaw("videos:launch.mp4", new Uint8Array(12 * 1024 * 1024).fill(3));
    await writer.dispose();
    const result = await built.cli(cwd, ["transfer", "videos:launch.mp4"], { QS_DATA: data, QUEUED_STORAGE_PROGRESS: "1" });
    expect(result.code, result.stderr).toBe(0);
    const bars = result.stderr.split("\n").filter((line) => line.startsWith("videos:launch.mp4 ["));
    expect(bars.length, result.stderr).toBeGreaterThan(0);
    expect(bars[0]).toMatch(/^videos:launch\.mp4 \[[#.]{24}\] +\d+% [\d.]+ MiB \/ 12\.0 MiB$/);
    expect(result.stdout).toMatch(/^state\s+remote$/m);
  });
});

describe("queued-storage CLI on Upstash + QStash (stand-ins)", () => {
  let proxy: UpstashProxy;
  let qstash: QStashStandIn;
  let hook: Webhook;
  let app: QueuedStorage;
  const prefix = randomPrefix("cli");
  const broken = { on: true };

  beforeAll(async () => {
    await requireRedis();
    proxy = await startUpstashProxy();
    qstash = await startQStash({ retryBackoff: () => 5 });
  });
  afterAll(async () => {
    await app?.dispose();
    await hook?.stop();
    await qstash?.stop();
    await proxy?.stop();
    await redisDeleteMatching(`${prefix}*`);
  });

  it("a dead-lettered transfer shows in list with its DLQ id; retry --failed republishes it and it lands", { timeout: 120_000 }, async () => {
    const cwd = await fixture(built, "upstash");
    const data = await mkdtemp(join(cwd, "data-"));
    let handler: (request: Request) => Promise<Response> = async () => new Response(null, { status: 503 });
    hook = await serveWebhook((request) => handler(request));
    const url = `${hook.origin}/api/transfer`;
    const env = {
      QS_DATA: data,
      QS_PREFIX: prefix,
      QS_WEBHOOK: url,
      UPSTASH_REDIS_REST_URL: proxy.url,
      UPSTASH_REDIS_REST_TOKEN: proxy.token,
      QSTASH_URL: qstash.url,
      QSTASH_TOKEN: qstash.token,
    };
    // The app: the webhook's side, with a remote that is down until `broken.on` is cleared.
    app = createQueuedStorage({
      local: fsDriver({ base: `${data}/local` }),
      remote: fsDriver({ base: `${data}/remote` }),
      flags: upstashFlags({ url: proxy.url, token: proxy.token, prefix }),
      queue: qstashQueue({ client: new Client({ baseUrl: qstash.url, token: qstash.token, enableTelemetry: false }), url, retries: 1 }),
      task: defineTask({ name: "transfer", run: (ctx) => (broken.on ? failing.run(ctx) : transfer.run(ctx)) }),
    });
    handler = createTransferHandler(app, { url, currentSigningKey: qstash.currentSigningKey, nextSigningKey: qstash.nextSigningKey });
    await app.setItem("invoices:1.pdf", "one");
    await app.setItem("invoices:2.pdf", "two");
    await qstash.idle();
    const cli = (...args: string[]) => built.cli(cwd, args, env);

    expect((await cli("stats", "--fail-on", "failed")).code).toBe(2);
    const list = await cli("list", "--state", "failed");
    expect(list.stdout).toMatch(/^invoices:1\.pdf\s+failed\s+\d+\s+.+QStash gave up after 1 retries \(dlqId \S+\).* \(dlq \S+\)$/m);
    const [[, record]] = JSON.parse((await cli("list", "--state", "failed", "--json")).stdout).items;
    expect(record.dlqId).toBe(qstash.dlq[0]!.dlqId);

    broken.on = false;
    const retried = await cli("retry", "--failed");
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(/^invoices:1\.pdf\s+queued/m);
    await qstash.idle();
    const after = await cli("stats", "--fail-on", "failed", "--json");
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout).counts).toMatchObject({ remote: 2, failed: 0 });
    expect((await cli("status", "invoices:2.pdf")).stdout).toMatch(/^state\s+remote$/m);
    expect(await app.getItem("invoices:2.pdf")).toBe("two");
    await rm(data, { recursive: true, force: true });
  });
});
