import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { randomPrefix, redisCall, redisDeleteMatching, requireRedis } from "./redis.ts";
import { startUpstashProxy, type UpstashProxy } from "./upstash-proxy.ts";

const prefix = randomPrefix("proxy");
const k = (name: string): string => `${prefix}:${name}`;
let proxy: UpstashProxy;
let redis: Redis;

beforeAll(async () => {
  await requireRedis();
  proxy = await startUpstashProxy();
  redis = new Redis({ url: proxy.url, token: proxy.token, enableTelemetry: false });
});
afterAll(async () => {
  await proxy?.stop();
  await redisDeleteMatching(`${prefix}:*`);
});
beforeEach(() => proxy.resetLog());

/** A request as the SDK would send it, to see the wire format itself. */
async function raw(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${proxy.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${proxy.token}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

describe("Upstash REST proxy with the real @upstash/redis client against real Redis", () => {
  it("round-trips strings, numbers, JSON objects and unicode, stored in Redis as the SDK serialized them", async () => {
    await redis.set(k("s"), "hello world");
    await redis.set(k("n"), 42);
    await redis.set(k("o"), { a: [1, "two", null], b: { c: true } });
    await redis.set(k("u"), "héllo 🌍 \u0000 \"quoted\" \\ 日本");
    expect(await redis.get(k("s"))).toBe("hello world");
    expect(await redis.get(k("n"))).toBe(42);
    expect(await redis.get(k("o"))).toEqual({ a: [1, "two", null], b: { c: true } });
    expect(await redis.get(k("u"))).toBe("héllo 🌍 \u0000 \"quoted\" \\ 日本");
    expect(await redis.get(k("missing"))).toBeNull();
    expect(await redis.type(k("s"))).toBe("string");
    expect(await redis.incrby(k("n"), 8)).toBe(50);
    expect((await redisCall(["GET", k("o")]) as Buffer).toString()).toBe('{"a":[1,"two",null],"b":{"c":true}}');
    expect((await redisCall(["GET", k("u")]) as Buffer).toString()).toBe("héllo 🌍 \u0000 \"quoted\" \\ 日本");
  });

  it("base64-encodes every string (\"OK\" and simple strings included) but never numbers, nulls or errors", async () => {
    const b64 = (s: string): string => Buffer.from(s).toString("base64");
    const enc = { "upstash-encoding": "base64" };
    expect(await raw("/", ["set", k("e"), "v"], enc)).toEqual({ status: 200, json: { result: b64("OK") } });
    expect(await raw("/", ["ping"], enc)).toEqual({ status: 200, json: { result: b64("PONG") } });
    expect(await raw("/", ["set", k("e"), "v"])).toEqual({ status: 200, json: { result: "OK" } });
    expect(await raw("/pipeline", [["get", k("e")], ["strlen", k("e")], ["get", k("none")], ["incr", k("e")]], enc)).toEqual({
      status: 200,
      json: [{ result: b64("v") }, { result: 1 }, { result: null }, { error: "ERR value is not an integer or out of range" }],
    });
    expect(await raw("/", ["incr", k("e")], enc)).toEqual({ status: 400, json: { error: "ERR value is not an integer or out of range" } });
    expect(await raw("/", ["eval", "return {'a', {redis.status_reply('OK'), 7}}", 0], enc)).toEqual({
      status: 200,
      json: { result: [b64("a"), [b64("OK"), 7]] },
    });
  });

  it("keeps binary values intact (bulk strings stay bytes until they are base64-encoded)", async () => {
    const bytes = Buffer.from([0xff, 0x00, 0x80, 0xfe, 0x0d, 0x0a, 0x24, 0x2a]);
    await redisCall(["SET", k("bin"), bytes]);
    const { json } = await raw("/", ["get", k("bin")], { "upstash-encoding": "base64" });
    expect(Buffer.from((json as { result: string }).result, "base64")).toEqual(bytes);
  });

  it("serializes JSON arguments like SRH: numbers → String, booleans → true/false, null → empty", async () => {
    expect((await raw("/pipeline", [["set", k("a1"), 1.5], ["set", k("a2"), true], ["set", k("a3"), null]])).status).toBe(200);
    const stored = await Promise.all([k("a1"), k("a2"), k("a3")].map(async (key) => String(await redisCall(["GET", key]))));
    expect(stored).toEqual(["1.5", "true", ""]);
  });

  it("sends explicit pipelines to /pipeline and reports a failing command inside the 200 array", async () => {
    const results = await redis.pipeline().set(k("p"), "1").incr(k("p")).get(k("p")).exec();
    expect(results).toEqual(["OK", 2, 2]);
    expect(proxy.requests.map((r) => [r.path, r.commands.length])).toEqual([["/pipeline", 3]]);
    await expect(redis.pipeline().set(k("p2"), "x").incr(k("p2")).exec()).rejects.toThrow(/Command 2 \[ incr \] failed: ERR value is not an integer/);
    expect(await redis.get(k("p2"))).toBe("x"); // non-atomic: the first command ran
  });

  it("runs multi-exec as one transaction on its own connection; EXECABORT is a 400", async () => {
    expect(await redis.multi().set(k("m"), "5").incr(k("m")).get(k("m")).exec()).toEqual(["OK", 6, 6]);
    expect(proxy.requests.map((r) => r.path)).toEqual(["/multi-exec"]);
    const aborted = await raw("/multi-exec", [["set", k("m2"), "1"], ["set", k("m2")]]);
    expect(aborted.status).toBe(400);
    expect((aborted.json as { error: string }).error).toMatch(/^EXECABORT/);
    expect(await redisCall(["EXISTS", k("m2")])).toBe(0); // nothing of the aborted transaction ran
    await expect(redis.multi().set(k("m2"), "1").hget(k("m2"), "f").exec()).rejects.toThrow(/WRONGTYPE/);
  });

  it("auto-pipelines concurrent commands into a few /pipeline requests with correct, ordered results", async () => {
    const keys = Array.from({ length: 60 }, (_, i) => k(`auto${i}`));
    await Promise.all(keys.map((key, i) => redis.set(key, i)));
    const writes = proxy.requests.length;
    const values = await Promise.all(keys.map((key) => redis.get<number>(key)));
    expect(values).toEqual(keys.map((_, i) => i));
    expect(proxy.requests.every((r) => r.path === "/pipeline")).toBe(true);
    expect(writes).toBeLessThanOrEqual(2);
    expect(proxy.requests.length - writes).toBeLessThanOrEqual(2);
    expect(proxy.requests.reduce((n, r) => n + r.commands.length, 0)).toBe(120);
  });

  it("sends scan-like commands to / and surfaces a single-command error", async () => {
    await redis.hset(k("h"), { f: "v", g: 2 });
    expect(await redis.hgetall(k("h"))).toEqual({ f: "v", g: 2 });
    expect(proxy.requests.map((r) => r.path)).toEqual(["/pipeline", "/"]);
    await expect(redis.smembers(k("h"))).rejects.toThrow(/WRONGTYPE/);
  });

  it("falls back from EVALSHA to EVAL on NOSCRIPT, then uses EVALSHA alone", async () => {
    const script = redis.createScript<[string, number]>(`-- ${prefix}\nreturn {ARGV[1], redis.call('INCR', KEYS[1])}`);
    expect(await script.exec([k("sc")], ["é"])).toEqual(["é", 1]);
    expect(proxy.requests.map((r) => r.commands[0]![0])).toEqual(["evalsha", "eval"]);
    proxy.resetLog();
    expect(await script.exec([k("sc")], ["x"])).toEqual(["x", 2]);
    expect(proxy.requests.map((r) => r.commands[0]![0])).toEqual(["evalsha"]);
  });

  it("rejects a wrong token with 401 and never runs the command or echoes the token", async () => {
    const intruder = new Redis({ url: proxy.url, token: "wrong-token", enableTelemetry: false });
    const error = await intruder.set(k("intruder"), "x").catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/Unauthorized/);
    expect((error as Error).message).not.toContain(proxy.token);
    expect(await redisCall(["EXISTS", k("intruder")])).toBe(0);
    expect(proxy.requests).toEqual([]);
    expect((await fetch(proxy.url, { method: "POST", body: "[]" })).status).toBe(401);
    expect((await fetch(proxy.url)).status).toBe(405);
    expect((await raw("/nope", ["ping"])).status).toBe(404);
  });

  it("failNext(n, status) fails exactly the next n requests without touching Redis, then recovers", async () => {
    proxy.failNext(2, 503);
    await expect(redis.set(k("f"), "1")).rejects.toThrow(/injected proxy failure/);
    await expect(redis.get(k("f"))).rejects.toThrow(/injected proxy failure/);
    expect(await redisCall(["EXISTS", k("f")])).toBe(0);
    expect(await redis.set(k("f"), "2")).toBe("OK");
    expect(await redis.get(k("f"))).toBe(2);
    expect(proxy.requests.map((r) => r.status)).toEqual([503, 503, 200, 200]);
    proxy.failNext(1);
    await expect(redis.pipeline().get(k("f")).exec()).rejects.toThrow();
    expect(proxy.requests.at(-1)!.status).toBe(500);
  });

  it("answers a malformed body with 400 and logs it", async () => {
    expect(await raw("/pipeline", ["get", "x"])).toEqual({ status: 400, json: { error: "Invalid command array" } });
    expect(proxy.requests).toEqual([{ path: "/pipeline", commands: [], status: 400 }]);
  });
});

describe("requireRedis", () => {
  it("fails loudly, naming the URL and how to start a server, when nothing answers", async () => {
    await expect(requireRedis("redis://127.0.0.1:1")).rejects.toThrow(
      /redis-server not reachable at redis:\/\/127\.0\.0\.1:1 .*redis-server --daemonize yes --port 6379 --save ''/,
    );
  });
});
