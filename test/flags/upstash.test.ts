import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FlagStore } from "../../src/contracts.ts";
import { upstashFlags } from "../../src/flags/upstash.ts";
import { describeFlagStore, sleep } from "./_contract.ts";
import { randomPrefix, redisCall, redisDeleteMatching, requireRedis } from "../support/redis.ts";
import { startUpstashProxy, type UpstashProxy } from "../support/upstash-proxy.ts";

const run = randomPrefix("upstash");
let stores = 0;
const freshPrefix = (): string => `${run}-${++stores}`;
let proxy: UpstashProxy;
let redis: Redis;

beforeAll(async () => {
  await requireRedis();
  proxy = await startUpstashProxy();
  redis = new Redis({ url: proxy.url, token: proxy.token, enableTelemetry: false });
});
afterAll(async () => {
  await proxy?.stop();
  await redisDeleteMatching(`${run}-*`);
});

const text = (reply: unknown): string => String(reply);

// The real client (automatic deserialization and auto-pipelining on) → Upstash REST proxy → real Redis.
describeFlagStore("upstashFlags({ redis }) through the Upstash REST proxy", () => upstashFlags({ redis, prefix: freshPrefix() }));
// Its own client, made from url and token.
describeFlagStore("upstashFlags({ url, token })", () => upstashFlags({ url: proxy.url, token: proxy.token, prefix: freshPrefix() }));

describe("upstashFlags specifics", () => {
  it("takes keys with glob characters, spaces, quotes, unicode and JSON look-alikes literally, in pending() and clear()", async () => {
    const store = upstashFlags({ redis, prefix: freshPrefix() });
    const keys = ["g*:1", "g?:1", "g[ab]:1", "ga:1", "gb:1", "g\\:1", "with space:ü 🌍", 'q"uote\n:1', "123", "1.0", "[1]", '{"a":1}', "null", "true"];
    for (const key of keys) await store.begin(key, { delayed: false });
    expect((await store.pending()).map(([key]) => key).sort()).toEqual([...keys].sort());
    for (const key of keys) expect((await store.get(key))!.state).toBe("queued");
    await store.clear("g[ab]");
    expect(await store.get("g[ab]:1")).toBeNull();
    expect(await store.get("ga:1")).not.toBeNull(); // `[ab]` was not a character class
    await store.clear("g*");
    await store.clear("g?");
    await store.clear("g\\");
    expect((await store.pending()).map(([key]) => key).sort()).toEqual(keys.filter((k) => !/^g[*?[\\]/.test(k)).sort());
    await store.clear();
    expect(await store.pending()).toEqual([]);
  });

  it("keeps strings as strings: an error '123', a lease token '42', control characters and unicode survive", async () => {
    const store = upstashFlags({ redis, prefix: freshPrefix() });
    const { record } = await store.begin("k", { delayed: false });
    await store.claim("k", record.generation, { token: "42", ms: 60_000 });
    expect((await store.get("k"))!.lease).toBe("42");
    for (const error of ["123", 'He said "no"\n\ttab \\ back', "ü 🌍 \u0001", ""]) {
      expect((await store.release("k", record.generation, "42", { error }))!.error).toBe(error);
      expect((await store.get("k"))!.error).toBe(error);
      await store.claim("k", record.generation, { token: "42", ms: 60_000 });
    }
  });

  it("stores a hash per key and indexes non-remote keys; only tombstones expire (tombstoneTtl)", async () => {
    const prefix = freshPrefix();
    const store = upstashFlags({ redis, prefix, tombstoneTtl: 60 });
    const { record } = await store.begin("k", { delayed: false });
    const hash = (await redisCall(["HGETALL", `${prefix}:s:k`])) as Buffer[];
    expect(hash.map(text)).toEqual(["state", "queued", "generation", String(record.generation), "attempts", "0", "updatedAt", String(record.updatedAt), "replaced", "0"]);
    expect(await redisCall(["SISMEMBER", `${prefix}:pending`, `${prefix}:s:k`])).toBe(1);
    expect(await redisCall(["PTTL", `${prefix}:s:k`])).toBe(-1);
    await store.claim("k", record.generation, { token: "T", ms: 60_000 });
    await store.settle("k", record.generation, "T");
    expect(await redisCall(["SISMEMBER", `${prefix}:pending`, `${prefix}:s:k`])).toBe(0);
    expect(await redisCall(["PTTL", `${prefix}:s:k`])).toBe(-1);
    await store.remove("k");
    const ttl = (await redisCall(["PTTL", `${prefix}:s:k`])) as number;
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await store.begin("k", { delayed: false }); // a write after the remove: no longer a tombstone, no expiry
    expect(await redisCall(["PTTL", `${prefix}:s:k`])).toBe(-1);
  });

  it("an expired tombstone disappears, also from the pending index", async () => {
    const prefix = freshPrefix();
    const store = upstashFlags({ redis, prefix, tombstoneTtl: 0.15 });
    await store.remove("gone");
    expect((await store.pending()).map(([key]) => key)).toEqual(["gone"]);
    await sleep(300);
    expect(await store.get("gone")).toBeNull();
    expect(await store.pending()).toEqual([]);
    expect(await redisCall(["EXISTS", `${prefix}:pending`])).toBe(0);
  });

  it("generations come from the Redis clock and a shared floor, so instances agree and a clock step back is harmless", async () => {
    const prefix = freshPrefix();
    const [a, b] = [upstashFlags({ redis, prefix }), upstashFlags({ url: proxy.url, token: proxy.token, prefix })];
    const micros = async (): Promise<number> => {
      const [s, us] = (await redisCall(["TIME"])) as Buffer[];
      return Number(text(s)) * 1e6 + Number(text(us));
    };
    const before = await micros();
    const { record } = await a.begin("k", { delayed: false });
    expect(record.generation).toBeGreaterThanOrEqual(before);
    expect(record.generation).toBeLessThanOrEqual(await micros());
    const second = await b.begin("k", { delayed: false });
    expect(second.previous).toEqual(record);
    const ahead = second.record.generation + 3_600_000_000; // as if TIME had stepped back by an hour
    await redisCall(["SET", `${prefix}:generation`, ahead]);
    const tombstone = await a.remove("k");
    expect(tombstone.generation).toBe(ahead + 1);
    expect(await b.forget("k", tombstone.generation)).toBe(true);
    expect((await a.begin("k", { delayed: true })).record.generation).toBe(ahead + 2);
  });

  it("costs exactly one HTTP request (one EVALSHA) per FlagStore operation", async () => {
    const store = upstashFlags({ redis, prefix: freshPrefix() });
    await store.get("warm-up"); // a cold script cache costs one NOSCRIPT → EVAL fallback, once per Redis server
    const counts: Record<string, number> = {};
    async function measure(name: string, call: () => Promise<unknown>): Promise<void> {
      proxy.resetLog();
      await call();
      counts[name] = proxy.requests.length;
      if (!["pending", "clear"].includes(name)) expect(proxy.requests.map((r) => r.commands.map((c) => c[0]))).toEqual([["evalsha"]]);
    }
    await measure("get", () => store.get("k"));
    await measure("begin", () => store.begin("k", { delayed: false }));
    const generation = (await store.get("k"))!.generation;
    await measure("requeue", () => store.requeue("k"));
    await measure("claim", () => store.claim("k", generation, { token: "T", ms: 60_000 }));
    await measure("release", () => store.release("k", generation, "T", { error: "x" }));
    await store.claim("k", generation, { token: "T", ms: 60_000 });
    await measure("settle", () => store.settle("k", generation, "T", { evictMs: 1000 }));
    await measure("renew", () => store.renew("k", "T", 60_000));
    await measure("evicted", () => store.evicted("k", "T"));
    await measure("rollback", () => store.rollback("k", generation, null));
    const tombstone = await store.remove("other");
    await measure("remove", () => store.remove("k"));
    await measure("forget", () => store.forget("other", tombstone.generation));
    for (let i = 0; i < 450; i++) await store.begin(`p:${i}`, { delayed: false }); // three read batches
    await measure("pending", () => store.pending());
    await measure("clear", () => store.clear("p"));
    proxy.resetLog();
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.begin(`c:${i}`, { delayed: false })));
    counts["20 concurrent begins"] = proxy.requests.length;
    console.log("upstashFlags HTTP requests per operation:", counts);
    const { pending, clear, "20 concurrent begins": concurrent, ...perKey } = counts;
    expect(Object.values(perKey)).toEqual(Array(11).fill(1));
    expect(pending).toBe(2); // SMEMBERS of the index + the records, 450 keys in 3 script calls in one pipeline
    expect(clear).toBeGreaterThanOrEqual(2); // SCAN page(s) + the batched clear scripts of each page
    expect(concurrent).toBeLessThanOrEqual(2); // auto-pipelined
    expect(await store.pending()).toHaveLength(21);
  });

  it('acknowledge: "stored" writes cost one Upstash request each: the landed marks ride on the next intent', async () => {
    // A linger far above a write's duration, so that even a loaded machine never sends a mark alone.
    const store = upstashFlags({ redis, prefix: freshPrefix(), landedLingerMs: 2000 });
    await store.get("warm-up");
    const { createQueuedStorage } = await import("../../src/index.ts");
    const { default: memory } = await import("unstorage/drivers/memory");
    const jobs: Array<{ key: string; generation: number }> = [];
    const storage = createQueuedStorage({
      local: memory(),
      remote: memory(),
      flags: store,
      acknowledge: "stored",
      queue: { name: "list", enqueue: async (job) => void jobs.push(job) },
    });
    proxy.resetLog();
    for (let i = 0; i < 20; i++) await storage.setItem(`s:${i}`, String(i));
    // 20 intents; marks 0…18 rode on intents 1…19, only the last one waits for its linger and goes alone.
    expect(proxy.requests.length).toBe(20);
    // EVALSHA sha numkeys …: each later intent carries 4 keys, the index, the floor, its record and the mark's record.
    expect(proxy.requests.slice(1).map((r) => Number(r.commands[0]?.[2]))).toEqual(Array(19).fill(4));
    await storage.drain();
    expect(proxy.requests.length).toBe(21);
    expect(jobs).toHaveLength(20);
    for (let i = 0; i < 20; i++) expect(await store.get(`s:${i}`)).toMatchObject({ state: "queued", bytes: "stored" });
    await storage.dispose();
  });

  it("a failing proxy makes begin reject with an error naming the key and the cause, never the token", async () => {
    const store = upstashFlags({ url: proxy.url, token: proxy.token, prefix: freshPrefix() });
    const first = await store.begin("photos/cat 1.jpg", { delayed: false });
    proxy.failNext(1, 503);
    const error = (await store.begin("photos/cat 1.jpg", { delayed: false }).catch((e: unknown) => e)) as Error & { key?: string };
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/^\[queued-storage\] \[upstash\] begin of key "photos\/cat 1\.jpg" failed: .*injected proxy failure/);
    expect(error.message).not.toContain(proxy.token);
    expect(error.message.length).toBeLessThan(500); // the script text is not dumped into the message
    expect(error.key).toBe("photos/cat 1.jpg");
    expect(await store.get("photos/cat 1.jpg")).toEqual(first.record); // nothing half-written
  });

  it("reads UPSTASH_REDIS_REST_URL/TOKEN lazily and says what is missing at first use", async () => {
    const env = process.env;
    const saved = { url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN };
    try {
      delete env.UPSTASH_REDIS_REST_URL;
      delete env.UPSTASH_REDIS_REST_TOKEN;
      const unconfigured: FlagStore = upstashFlags(); // constructing touches nothing
      await expect(unconfigured.get("k")).rejects.toThrow(
        /\[queued-storage\] \[upstash\] no Redis configured: pass `redis`.*`url` and `token`.*UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN/,
      );
      env.UPSTASH_REDIS_REST_URL = proxy.url;
      env.UPSTASH_REDIS_REST_TOKEN = proxy.token;
      const configured = upstashFlags({ prefix: freshPrefix() });
      expect((await configured.begin("k", { delayed: false })).record.state).toBe("queued");
    } finally {
      for (const [name, value] of [["UPSTASH_REDIS_REST_URL", saved.url], ["UPSTASH_REDIS_REST_TOKEN", saved.token]] as const) {
        if (value === undefined) delete env[name];
        else env[name] = value;
      }
    }
  });

  it("says which option is wrong for a bad url", async () => {
    await expect(upstashFlags({ url: "not a url", token: "t" }).get("k")).rejects.toThrow(/\[queued-storage\] \[upstash\] invalid `url`/);
  });

  it("rejects a prefix the client's JSON deserialization could mangle and a non-positive tombstoneTtl", () => {
    for (const prefix of ["[x", "{x", '"x', " x"]) expect(() => upstashFlags({ redis, prefix })).toThrow(/`prefix`/);
    expect(() => upstashFlags({ redis, tombstoneTtl: 0 })).toThrow(/`tombstoneTtl`/);
  });
});
