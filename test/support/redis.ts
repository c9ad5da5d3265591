import { randomBytes } from "node:crypto";
import { connectResp, RespError, type RespValue } from "./_resp.ts";

/** The real redis-server the tests use. */
export const REDIS_URL: string = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Throws a loud, actionable error unless a redis-server answers PING at `url`. */
export async function requireRedis(url: string = REDIS_URL): Promise<void> {
  let reply: RespValue | undefined;
  let cause: unknown;
  try {
    const connection = await connectResp(url);
    try {
      [reply] = await withTimeout(connection.send([["PING"]]), 2000);
    } finally {
      connection.close();
    }
  } catch (error) {
    cause = error;
  }
  if (Buffer.isBuffer(reply) && reply.toString() === "PONG") return;
  const why = cause ? (cause as Error).message : `PING answered ${describe(reply)}`;
  throw new Error(
    `redis-server not reachable at ${url} (${why}): start one with \`redis-server --daemonize yes --port 6379 --save ''\` ` +
      "or point REDIS_URL at one",
  );
}

/** One command on a fresh connection, bypassing the proxy (to check what really is in Redis). */
export async function redisCall(args: Array<string | number | Buffer>, url: string = REDIS_URL): Promise<RespValue> {
  const connection = await connectResp(url);
  try {
    const [reply] = await connection.send([args.map((a) => (typeof a === "number" ? String(a) : a))]);
    if (reply instanceof RespError) throw new Error(`Redis ${String(args[0])} failed: ${reply.message}`);
    return reply ?? null;
  } finally {
    connection.close();
  }
}

/** Deletes every key matching `pattern` (a SCAN MATCH pattern), bypassing the proxy. */
export async function redisDeleteMatching(pattern: string, url: string = REDIS_URL): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const reply = (await redisCall(["SCAN", cursor, "MATCH", pattern, "COUNT", 1000], url)) as [Buffer, Buffer[]];
    cursor = reply[0].toString();
    if (reply[1].length) deleted += (await redisCall(["DEL", ...reply[1]], url)) as number;
  } while (cursor !== "0");
  return deleted;
}

/** A prefix unique to this run, so parallel runs and leftovers never collide. Contains no glob characters. */
export function randomPrefix(label: string): string {
  return `qs-test-${label}-${randomBytes(6).toString("hex")}`;
}

function describe(reply: RespValue | undefined): string {
  if (reply instanceof RespError) return `-${reply.message}`;
  return Buffer.isBuffer(reply) ? reply.toString() : JSON.stringify(reply);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no reply within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
