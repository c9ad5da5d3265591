import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connectResp, RespError, type RespArg, type RespConnection, type RespValue } from "./_resp.ts";
import { REDIS_URL } from "./redis.ts";

export interface StartUpstashProxyOptions {
  /** Default: env `REDIS_URL`, else `redis://127.0.0.1:6379`. */
  redisUrl?: string;
  /** The bearer token clients must send. Default: a random one. */
  token?: string;
}

/** One HTTP request the proxy answered: its path and the commands it carried (after auth). */
export interface ProxyRequest {
  path: string;
  commands: unknown[][];
  status: number;
}

export interface UpstashProxy {
  /** Base URL for `new Redis({ url })`. */
  url: string;
  token: string;
  /** Every authenticated request, in arrival order: count round trips per operation from it. */
  requests: ProxyRequest[];
  resetLog(): void;
  /** Make the next `n` authenticated HTTP requests fail with `status` (default 500) without touching Redis. */
  failNext(n: number, status?: number): void;
  stop(): Promise<void>;
}

// Commands that would block or hijack the shared connection every `/` and `/pipeline` request goes through.
const REFUSED = new Set(["select", "subscribe", "psubscribe", "monitor", "blpop", "brpop", "blmove", "bzpopmin", "bzpopmax", "quit", "watch"]);

/**
 * An Upstash-REST-compatible HTTP server in front of a real redis-server (wire-protocols B and C, like SRH), so the
 * real `@upstash/redis` client can be tested offline: `POST /`, `/pipeline`, `/multi-exec`, bearer auth and
 * `Upstash-Encoding: base64`.
 */
export async function startUpstashProxy(options: StartUpstashProxyOptions = {}): Promise<UpstashProxy> {
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const token = options.token ?? `proxy_${randomBytes(12).toString("hex")}`;
  const requests: ProxyRequest[] = [];
  const dedicated = new Set<RespConnection>();
  let failures = { left: 0, status: 500 };
  let shared: Promise<RespConnection> | undefined;

  // One pipelined connection serves `/` and `/pipeline`: each request is one write, replies come back in order.
  const sharedConnection = (): Promise<RespConnection> =>
    (shared ??= connectResp(redisUrl).catch((error: unknown) => {
      shared = undefined;
      throw error;
    }));

  async function execute(path: string, commands: RespArg[][]): Promise<RespValue[] | RespError> {
    if (path !== "/multi-exec") {
      const connection = await sharedConnection();
      return connection.send(commands).catch((error: unknown) => {
        shared = undefined;
        throw error;
      });
    }
    // A transaction gets its own connection, so no other request's commands land between MULTI and EXEC.
    const connection = await connectResp(redisUrl);
    dedicated.add(connection);
    try {
      const replies = await connection.send([["MULTI"], ...commands, ["EXEC"]]);
      const exec = replies[replies.length - 1];
      if (exec instanceof RespError) return exec;
      if (!Array.isArray(exec)) return new RespError("EXECABORT Transaction discarded");
      return exec;
    } finally {
      dedicated.delete(connection);
      connection.close();
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0]!.replace(/(.)\/+$/, "$1");
    if (req.method !== "POST") return send(res, 405, { error: "Method not allowed" });
    if (path !== "/" && path !== "/pipeline" && path !== "/multi-exec") {
      return send(res, 404, { error: "Endpoint not found" });
    }
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: "Unauthorized" });
    const parsed = parseJson(await readBody(req));
    const commands = path === "/" ? [parsed] : parsed;
    const reply = (status: number, body: unknown): void => {
      requests.push({ path, commands: isCommandList(commands) ? commands : [], status });
      send(res, status, body);
    };
    if (!isCommandList(commands)) return reply(400, { error: "Invalid command array" });
    if (failures.left > 0) {
      failures.left--;
      return reply(failures.status, { error: "injected proxy failure" });
    }
    const refused = commands.find((command) => REFUSED.has(String(command[0]).toLowerCase()));
    if (refused) return reply(400, { error: `ERR command ${String(refused[0])} is not supported by this proxy` });

    let replies: RespValue[] | RespError;
    try {
      replies = await execute(path, commands.map((command) => command.map(toArg)));
    } catch (error) {
      return reply(500, { error: `proxy: Redis unreachable at ${redisUrl}: ${(error as Error).message}` });
    }
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    if (replies instanceof RespError) return reply(400, { error: replies.message });
    if (path === "/") {
      const single = replies[0] ?? null;
      if (single instanceof RespError) return reply(400, { error: single.message });
      return reply(200, { result: toJson(single, base64) });
    }
    return reply(200, replies.map((r) => (r instanceof RespError ? { error: r.message } : { result: toJson(r, base64) })));
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => send(res, 500, { error: (error as Error).message }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    resetLog: () => void requests.splice(0),
    failNext(n, status = 500) {
      failures = { left: n, status };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of dedicated) connection.close();
      if (shared) (await shared.catch(() => undefined))?.close();
    },
  };
}

// --- internal ---

function isCommandList(value: unknown): value is unknown[][] {
  return Array.isArray(value) && value.length > 0 && value.every((c) => Array.isArray(c) && c.length > 0);
}

/** How SRH (Redix `to_string`) turns JSON arguments into RESP bulk strings. */
function toArg(value: unknown): RespArg {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value === null || value === undefined) return "";
  return JSON.stringify(value);
}

/** RESP → JSON; with base64 every string (bulk and simple, "OK" included) is encoded, numbers and nulls are not. */
function toJson(value: RespValue, base64: boolean): unknown {
  if (value === null || typeof value === "number") return value;
  if (value instanceof RespError) return { error: value.message };
  if (Array.isArray(value)) return value.map((item) => toJson(item, base64));
  return value.toString(base64 ? "base64" : "utf8");
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
