import { Redis } from "@upstash/redis";
import { _error, _messageOf } from "../_errors.ts";
import { _FLAGS_LUA } from "./_upstash-lua.ts";
import { _cursorAfter, _listArgs } from "./_listing.ts";
import type { ClaimResult, FlagRecord, FlagStore, SettleResult, TransferStats } from "../contracts.ts";

/** Options of {@link upstashFlags}. */
export interface UpstashFlagsOptions {
  /**
   * A ready `@upstash/redis` client. Without it one is created on first use from `url` and `token`.
   * @example redis: Redis.fromEnv()
   */
  redis?: Redis;
  /**
   * The REST URL of the database, when no `redis` is given. Default: env `UPSTASH_REDIS_REST_URL`.
   * @example url: "https://eu1-example-12345.upstash.io"
   */
  url?: string;
  /**
   * The REST token of the database, when no `redis` is given. Default: env `UPSTASH_REDIS_REST_TOKEN`.
   * @example token: env.UPSTASH_REDIS_REST_TOKEN
   */
  token?: string;
  /**
   * Namespace of the Redis keys: records live at `<prefix>:s:<key>`, the pending index at `<prefix>:pending`, the
   * highest generation issued at `<prefix>:generation`.
   * It must not start with whitespace, `"`, `[` or `{` (the client's JSON deserialization would mangle listed keys).
   * @default "qs"
   * @example prefix: "uploads-flags"
   */
  prefix?: string;
  /**
   * Seconds a tombstone (the record of a removed key) lives after its last change; other records never expire.
   * @default 86400
   * @example tombstoneTtl: 3600
   */
  tombstoneTtl?: number;
  /**
   * Milliseconds the landed mark of a write acknowledged once stored (`acknowledge: "stored"`) waits for this
   * instance's next write intent to ride on, before it goes in a request of its own. Longer: fewer requests when
   * writes are sparse; shorter: `sync()` can queue a write whose process died after its acknowledgement sooner.
   * @default 10
   * @example landedLingerMs: 50
   */
  landedLingerMs?: number;
}

const NAME = "upstash";

/** Record keys per script call in `pending()` and `clear()`: small requests; concurrent calls are auto-pipelined. */
const BATCH = 200;

/**
 * Transfer state in Upstash Redis, shared by every instance: each operation is one Lua script run atomically on the
 * server (one round trip, EVALSHA), with the server's clock, so generations stay strictly increasing across instances.
 *
 * @example
 * import { upstashFlags } from "queued-storage/upstash";
 * const storage = createQueuedStorage({ local, remote, flags: upstashFlags() }); // UPSTASH_REDIS_REST_URL / _TOKEN
 */
export function upstashFlags(options: UpstashFlagsOptions = {}): FlagStore {
  const prefix = options.prefix ?? "qs";
  if (typeof prefix !== "string" || /^[\s"[{]/.test(prefix)) {
    throw _error(`\`prefix\` must be a string not starting with whitespace, '"', '[' or '{'`, { scope: NAME, type: TypeError, retryable: false });
  }
  const ttl = options.tombstoneTtl ?? 86_400;
  if (!(typeof ttl === "number" && ttl > 0 && Number.isFinite(ttl))) {
    throw _error("`tombstoneTtl` must be a positive number of seconds", { scope: NAME, type: TypeError, retryable: false });
  }
  const ttlMs = String(Math.max(1, Math.round(ttl * 1000)));
  const index = `${prefix}:pending`;
  const floor = `${prefix}:generation`;
  const recordPrefix = `${prefix}:s:`;

  let _redis: Redis | undefined;
  let _script: { exec(keys: string[], args: string[]): Promise<unknown> } | undefined;
  const getRedis = (): Redis => (_redis ??= options.redis ?? _createClient(options));
  const getScript = () => (_script ??= getRedis().createScript<unknown>(_FLAGS_LUA));

  /** One EVALSHA of the flags script (EVAL after a NOSCRIPT); its reply is JSON text. */
  async function run<T>(op: string, key: string | undefined, recordKeys: string[], args: string[] = []): Promise<T> {
    const script = getScript();
    let reply: unknown;
    try {
      reply = await script.exec([index, floor, ...recordKeys], [op, ttlMs, ...args]);
    } catch (cause) {
      throw _failure(op, key, cause);
    }
    // With automaticDeserialization the client already parsed the JSON text; without it, it is still a string.
    return (typeof reply === "string" ? JSON.parse(reply) : reply) as T;
  }
  const one = <T>(op: string, key: string, args: string[] = []): Promise<T> => run<T>(op, key, [recordPrefix + key], args);

  async function plain<T>(op: string, call: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = getRedis();
    try {
      return await call(redis);
    } catch (cause) {
      throw _failure(op, undefined, cause);
    }
  }

  /** Runs `op` over `recordKeys` in batches; concurrent calls travel in one auto-pipelined request. */
  function batched<T>(op: string, recordKeys: string[]): Promise<T[][]> {
    const batches: string[][] = [];
    for (let i = 0; i < recordKeys.length; i += BATCH) batches.push(recordKeys.slice(i, i + BATCH));
    return Promise.all(batches.map((batch) => run<T[]>(op, undefined, batch)));
  }

  const linger = options.landedLingerMs ?? 10;
  if (!(typeof linger === "number" && linger >= 0 && Number.isFinite(linger))) {
    throw _error("`landedLingerMs` must be a number of milliseconds ≥ 0", { scope: NAME, type: TypeError, retryable: false });
  }
  const marks = _createMarkBuffer(linger, (batch) =>
    run<null>("landed", undefined, batch.map(([key]) => recordPrefix + key), batch.map(([, g]) => String(g))),
  );

  async function begin(key: string, options: { delayed: boolean; kind?: string; storing?: boolean }) {
    const riding = marks.take();
    const args = [options.delayed ? "1" : "0", options.kind ?? "", options.storing ? "1" : "0"];
    const recordKeys = [recordPrefix + key];
    for (const [k, g] of riding.marks) {
      recordKeys.push(recordPrefix + k);
      args.push(String(g));
    }
    const result = run<{ record: FlagRecord; previous: FlagRecord | null }>("begin", key, recordKeys, args);
    riding.settle(result);
    return result;
  }

  return {
    name: NAME,
    // --- operations (issue 21): one EVALSHA each, over the indexes the transitions keep (see _upstash-lua.ts) ---
    stats: (base = "") => run<TransferStats>("stats", undefined, [], [base]),
    async list(query) {
      const { state, prefix, after, limit } = _listArgs(query);
      const page = await run<{ items: Array<[string, FlagRecord]>; after: string | null }>("list", undefined, [], [
        state ?? "",
        prefix,
        after,
        String(limit),
      ]);
      return { items: page.items, cursor: page.after === null ? null : _cursorAfter(String(page.after)) };
    },
    async reindex() {
      let cursor = "0";
      do {
        const [next, keys] = await plain("reindex", (redis) => redis.scan(cursor, { match: `${_globEscape(recordPrefix)}*`, count: 1000 }));
        cursor = String(next);
        await batched("reindex", keys.map(String));
      } while (cursor !== "0");
    },
    // ---
    get: (key) => one<FlagRecord | null>("get", key),
    begin,
    landed: (batch) => marks.add(batch),
    requeue: (key, generation) => one<FlagRecord | null>("requeue", key, [generation === undefined ? "" : String(generation)]),
    claim: (key, generation, lease) => one<ClaimResult>("claim", key, [String(generation), lease.token, String(lease.ms)]),
    settle: (key, generation, token, settleOptions) =>
      one<SettleResult>("settle", key, [String(generation), token, String(settleOptions?.evictMs ?? 0)]),
    release: (key, generation, token, { error, final }) =>
      one<FlagRecord | null>("release", key, [String(generation), token, error === undefined ? "0" : "1", error ?? "", final ? "1" : "0"]),
    renew: (key, token, ms) => one<FlagRecord | null>("renew", key, [token, String(ms)]),
    rollback: (key, generation, previous) => one<boolean>("rollback", key, [String(generation), ..._previousArgs(previous)]),
    evicted: async (key, token) => void (await one<null>("evicted", key, [token])),
    remove: (key) => one<FlagRecord>("remove", key),
    forget: (key, generation) => one<boolean>("forget", key, [String(generation)]),
    async pending() {
      // SMEMBERS of the index (record keys never parse as JSON, see `prefix`), then the records in batches.
      const members = await plain("pending", (redis) => redis.smembers<string[]>(index));
      const recordKeys = members.map(String).filter((member) => member.startsWith(recordPrefix));
      const records = (await batched<FlagRecord | null>("read", recordKeys)).flat();
      const out: Array<[string, FlagRecord]> = [];
      records.forEach((record, i) => record && out.push([recordKeys[i]!.slice(recordPrefix.length), record]));
      return out;
    },
    async clear(base = "") {
      const scope = base && !base.endsWith(":") ? `${base}:` : base;
      const match = `${_globEscape(recordPrefix + scope)}*`;
      let cursor = "0";
      do {
        // SCAN (MATCH on the escaped base, so `*`, `?`, `[` in keys are literal), then _clearOne per key in Lua.
        const [next, keys] = await plain("clear", (redis) => redis.scan(cursor, { match, count: 1000 }));
        cursor = String(next);
        await batched("clear", keys.map(String));
      } while (cursor !== "0");
    },
  };
}

// --- internal ---

type _Mark = [string, number];

/**
 * Landed marks waiting for a request: `take()` hands them to a `begin` to ride on (its `settle` resolves their callers
 * with that request's outcome); marks no begin takes within `lingerMs` go out on their own.
 */
function _createMarkBuffer(lingerMs: number, send: (batch: _Mark[]) => Promise<unknown>): {
  add(batch: _Mark[]): Promise<void>;
  take(): { marks: _Mark[]; settle(request: Promise<unknown>): void };
} {
  let waiting: Array<{ marks: _Mark[]; done: (request: Promise<unknown>) => void }> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const takeAll = (): { marks: _Mark[]; settle(request: Promise<unknown>): void } => {
    const all = waiting;
    waiting = [];
    if (timer) clearTimeout(timer);
    timer = undefined;
    return { marks: all.flatMap((w) => w.marks), settle: (request) => all.forEach((w) => w.done(request)) };
  };
  return {
    add(batch) {
      if (batch.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiting.push({ marks: batch, done: (request) => void request.then(() => resolve(), reject) });
        timer ??= setTimeout(() => {
          const taken = takeAll();
          taken.settle(send(taken.marks));
        }, lingerMs);
      });
    },
    take: takeAll,
  };
}

function _createClient(options: UpstashFlagsOptions): Redis {
  // `globalThis.process`, never a bare `process`: Workers have none, and edge bundlers must not see one.
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const url = options.url ?? env.UPSTASH_REDIS_REST_URL;
  const token = options.token ?? env.UPSTASH_REDIS_REST_TOKEN;
  if (!url || !token) {
    const missing = [!url && "`url` (env UPSTASH_REDIS_REST_URL)", !token && "`token` (env UPSTASH_REDIS_REST_TOKEN)"];
    throw _error(
      `no Redis configured: pass \`redis\` (an @upstash/redis client) or \`url\` and \`token\` to upstashFlags(), ` +
        `or set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN; missing ${missing.filter(Boolean).join(" and ")}`,
      { scope: NAME, retryable: false },
    );
  }
  try {
    // Replies are JSON text we parse ourselves: no need for the client's own deserialization.
    return new Redis({ url, token, automaticDeserialization: false });
  } catch (cause) {
    throw _error(`invalid \`url\`: ${_messageOf(cause)}`, { scope: NAME, cause, retryable: false });
  }
}

function _failure(op: string, key: string | undefined, cause: unknown): Error {
  // The client's messages end with ", command was: <the whole request>" (a script of several KB): cut that off.
  const message = _messageOf(cause).split(", command was:")[0]!.slice(0, 300);
  const subject = key === undefined ? op : `${op} of key ${JSON.stringify(key)}`;
  return _error(`${subject} failed: ${message}`, key === undefined ? { scope: NAME, cause } : { scope: NAME, key, cause });
}

/** A record as `"1", field, value, …` script arguments (`"0"` for none): numbers as exact decimal text. */
function _previousArgs(previous: FlagRecord | null): string[] {
  if (!previous) return ["0"];
  const args = ["1"];
  for (const [field, value] of Object.entries(previous)) {
    // String() of a µs generation is its exact decimal digits (no exponent below 1e21).
    if (value !== undefined && value !== null) args.push(field, String(value));
  }
  return args;
}

/** Escapes Redis glob characters so that a key prefix matches itself only. */
function _globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
