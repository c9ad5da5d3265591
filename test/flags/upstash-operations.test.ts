import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upstashFlags } from "../../src/flags/upstash.ts";
import { _FLAGS_LUA } from "../../src/flags/_upstash-lua.ts";
import { randomPrefix, REDIS_URL, redisCall, redisDeleteMatching, requireRedis } from "../support/redis.ts";
import { startUpstashProxy, type UpstashProxy } from "../support/upstash-proxy.ts";

const run = randomPrefix("upstash-ops");
let proxy: UpstashProxy;
let redis: Redis;
let direct: IORedis;

beforeAll(async () => {
  await requireRedis();
  proxy = await startUpstashProxy();
  redis = new Redis({ url: proxy.url, token: proxy.token, enableTelemetry: false });
  direct = new IORedis(REDIS_URL, { lazyConnect: true });
  await direct.connect();
});
afterAll(async () => {
  await proxy?.stop();
  direct?.disconnect();
  await redisDeleteMatching(`${run}*`);
});

/**
 * `n` writes straight into Redis through the flags script itself (its `begin`, pipelined over one connection): the
 * same transitions, and so the same indexes, as n setItem calls would leave, in a few seconds.
 */
async function seed(prefix: string, n: number, key: (i: number) => string, delayed = (i: number) => i % 4 === 0): Promise<void> {
  const sha = (await direct.script("LOAD", _FLAGS_LUA)) as string;
  for (let start = 0; start < n; start += 10_000) {
    const pipeline = direct.pipeline();
    for (let i = start; i < Math.min(n, start + 10_000); i++) {
      pipeline.evalsha(sha, 3, `${prefix}:pending`, `${prefix}:generation`, `${prefix}:s:${key(i)}`, "begin", "1000", delayed(i) ? "1" : "0", "raw");
    }
    const replies = await pipeline.exec();
    const failed = replies?.find(([error]) => error);
    if (failed) throw failed[0];
  }
}

describe("upstashFlags operations at scale (the stand-in's request log)", () => {
  it("stats() is one round trip with 100,000 records, and exact", { timeout: 120_000 }, async () => {
    const prefix = `${run}-100k`;
    await seed(prefix, 100_000, (i) => `uploads:${String(i).padStart(6, "0")}`);
    const store = upstashFlags({ redis, prefix });
    // Some transitions on top: one key remote, one failed.
    for (const [key, final] of [["uploads:000001", false], ["uploads:000002", true]] as const) {
      const record = (await store.get(key))!;
      await store.claim(key, record.generation, { token: "T", ms: 60_000 });
      if (final) await store.release(key, record.generation, "T", { error: "boom", final: true });
      else await store.settle(key, record.generation, "T");
    }
    proxy.resetLog();
    const started = performance.now();
    const stats = await store.stats!();
    const ms = performance.now() - started;
    expect(proxy.requests).toHaveLength(1);
    expect(proxy.requests[0]!.commands).toHaveLength(1);
    expect(stats.counts).toEqual({ local: 25_000, queued: 74_998, transferring: 0, remote: 1, failed: 1 });
    expect(stats.oldestPending).toMatchObject({ key: "uploads:000000" });
    proxy.resetLog();
    const scoped = await store.stats!("uploads:0000");
    expect(proxy.requests).toHaveLength(1);
    expect(scoped.counts).toEqual({ local: 25, queued: 73, transferring: 0, remote: 1, failed: 1 });
    console.log(`stats() over 100,000 records: 1 request, ${ms.toFixed(1)} ms`);
  });

  it("a list page costs one request of the same size whether the store holds 100 keys or 100,000", { timeout: 120_000 }, async () => {
    const cost: Array<{ requests: number; commands: number; bytes: number; ms: number }> = [];
    for (const n of [100, 100_000]) {
      const prefix = `${run}-list-${n}`;
      await seed(prefix, n, (i) => `k:${String(i).padStart(6, "0")}`, () => false);
      const store = upstashFlags({ redis, prefix });
      const first = await store.list!({ limit: 50 });
      proxy.resetLog();
      const started = performance.now();
      const page = await store.list!({ limit: 50, cursor: first.cursor! });
      const ms = performance.now() - started;
      expect(page.items.map(([key]) => key)).toEqual(Array.from({ length: 50 }, (_, i) => `k:${String(i + 50).padStart(6, "0")}`));
      const commands = proxy.requests.flatMap((request) => request.commands);
      cost.push({ requests: proxy.requests.length, commands: commands.length, bytes: JSON.stringify(page).length, ms });
    }
    expect(cost[0]!.requests).toBe(1);
    expect(cost[1]!.requests).toBe(1);
    expect(cost[1]!.commands).toBe(cost[0]!.commands);
    expect(Math.abs(cost[1]!.bytes - cost[0]!.bytes)).toBeLessThan(cost[0]!.bytes * 0.05); // `replaced` digits differ
    console.log(`list page of 50: ${JSON.stringify(cost)}`);
  });

  it("reindex() builds the indexes of records written before they existed", async () => {
    const prefix = `${run}-old`;
    const store = upstashFlags({ redis, prefix });
    await store.begin("a", { delayed: false });
    await store.begin("b", { delayed: true });
    await redisCall(["DEL", `${prefix}:keys`, `${prefix}:age`, `${prefix}:by:queued`, `${prefix}:by:local`]);
    expect((await store.stats!()).counts.queued).toBe(0);
    await store.reindex!();
    expect((await store.stats!()).counts).toMatchObject({ queued: 1, local: 1 });
    expect((await store.list!({})).items.map(([key]) => key)).toEqual(["a", "b"]);
  });
});
