import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createDeliverer, type QStashDelivery, type QStashDlqEntry } from "./_qstash-delivery.ts";
import { randomSigningKey } from "./_qstash-jwt.ts";
import {
  dedupKey,
  destinationOf,
  lowerCaseHeaders,
  messageFromPublish,
  newId,
  type QStashMessage,
} from "./_qstash-parse.ts";

export type { QStashDelivery, QStashDlqEntry } from "./_qstash-delivery.ts";
export { qstashBodyHash, randomSigningKey, signQStashJwt } from "./_qstash-jwt.ts";

export interface StartQStashOptions {
  token?: string;
  currentSigningKey?: string;
  nextSigningKey?: string;
  /** Wait in ms before retry number `retried + 1` (0 before the first retry). Default: 20 × 2^retried. */
  retryBackoff?: (retried: number) => number;
  /** Which key signs deliveries; `"next"` is what QStash does right after the keys were rolled. Default `"current"`. */
  signWith?: "current" | "next";
}

/** One accepted publish (or batch item), as the stand-in received it. */
export interface QStashPublished {
  messageId: string;
  destination: string;
  /** `upstash-*` and `content-type` headers of the publish, lower-cased. */
  headers: Record<string, string>;
  body: string;
  deduplicated: boolean;
}

export interface QStashStandIn {
  /** Base URL for `new Client({ baseUrl })`. */
  url: string;
  token: string;
  currentSigningKey: string;
  nextSigningKey: string;
  published: QStashPublished[];
  /** Item count of each `POST /v2/batch` request. */
  batches: number[];
  deliveries: QStashDelivery[];
  dlq: QStashDlqEntry[];
  /** Deliver everything that waits for a delay or a retry backoff now. */
  flush(): void;
  /** Resolves when nothing is scheduled, held or in flight. */
  idle(): Promise<void>;
  /** Hold deliveries that come due until `resume()`. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

const DEDUP_WINDOW_MS = 10 * 60_000;
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/**
 * A QStash-compatible server on a free loopback port (wire-protocols A6): bearer auth, publish, enqueue, batch,
 * dedup, delays, signed deliveries with retries, DLQ and failure callbacks, `GET /v2/messages/:id`, `GET /v2/dlq`.
 */
export async function startQStash(options: StartQStashOptions = {}): Promise<QStashStandIn> {
  const token = options.token ?? newId("qstash_token_");
  const currentSigningKey = options.currentSigningKey ?? randomSigningKey();
  const nextSigningKey = options.nextSigningKey ?? randomSigningKey();
  const published: QStashPublished[] = [];
  const batches: number[] = [];
  const deliveries: QStashDelivery[] = [];
  const dlq: QStashDlqEntry[] = [];
  const dedup = new Map<string, { messageId: string; at: number }>();
  const deliverer = createDeliverer({
    signingKey: () => (options.signWith === "next" ? nextSigningKey : currentSigningKey),
    retryBackoff: options.retryBackoff ?? ((retried) => 20 * 2 ** retried),
    deliveries,
    dlq,
  });

  function publish(destination: string, headers: Record<string, string>, body: Buffer): object {
    if (!/^https?:\/\//.test(destination)) throw new Error(`destination must be a URL, got "${destination}"`);
    const now = Date.now();
    const message = messageFromPublish(destination, headers, body, now);
    const key = dedupKey(message);
    const hit = key ? dedup.get(key) : undefined;
    if (key && hit && now - hit.at < DEDUP_WINDOW_MS) {
      published.push({ messageId: hit.messageId, destination, headers, body: body.toString("utf8"), deduplicated: true });
      return { messageId: hit.messageId, url: destination, deduplicated: true };
    }
    if (key) dedup.set(key, { messageId: message.messageId, at: now });
    published.push({ messageId: message.messageId, destination, headers, body: body.toString("utf8"), deduplicated: false });
    deliverer.schedule(message, message.notBefore);
    return { messageId: message.messageId, url: destination, deduplicated: false };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? "/";
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: "Unauthorized" });
    if (req.method === "GET" && target === "/v2/keys") return send(res, 200, { current: currentSigningKey, next: nextSigningKey });
    if (req.method === "GET" && target.startsWith("/v2/messages/")) {
      const message = deliverer.pending(decodeURIComponent(target.slice("/v2/messages/".length)));
      return message ? send(res, 200, describe(message)) : send(res, 404, { error: "message not found" });
    }
    if (req.method === "GET" && (target === "/v2/dlq" || target.startsWith("/v2/dlq?"))) {
      return send(res, 200, { messages: dlq });
    }
    if (req.method !== "POST") return send(res, 404, { error: `no route for ${req.method} ${target}` });
    const body = await readBody(req);
    const headers = lowerCaseHeaders(req.headers);
    try {
      if (target.startsWith("/v2/publish/")) {
        const result = publish(destinationOf(target.slice("/v2/publish/".length)), headers, body);
        return send(res, (result as { deduplicated: boolean }).deduplicated ? 202 : 200, result);
      }
      const enqueue = /^\/v2\/enqueue\/[^/]+\/(.+)$/.exec(target);
      if (enqueue) return send(res, 200, publish(destinationOf(enqueue[1]!), headers, body));
      if (target === "/v2/batch") {
        const items = JSON.parse(body.toString("utf8")) as Array<{ destination: string; headers?: Record<string, string>; body?: string }>;
        if (!Array.isArray(items)) throw new Error("batch body must be an array");
        batches.push(items.length);
        const results = items.map((item) =>
          publish(destinationOf(item.destination), lowerCaseHeaders(item.headers ?? {}), Buffer.from(item.body ?? "")),
        );
        return send(res, 200, results);
      }
    } catch (error) {
      return send(res, 400, { error: (error as Error).message });
    }
    return send(res, 404, { error: `no route for POST ${target}` });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => send(res, 500, { error: (error as Error).message }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    currentSigningKey,
    nextSigningKey,
    published,
    batches,
    deliveries,
    dlq,
    flush: () => deliverer.flush(),
    idle: () => deliverer.idle(),
    pause: () => deliverer.pause(),
    resume: () => deliverer.resume(),
    async stop() {
      deliverer.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// --- internal ---

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > MAX_REQUEST_BYTES) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The `Message` shape of `GET /v2/messages/:id` (forwarded headers without their prefix). */
function describe(message: QStashMessage): object {
  const header: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(message.forward)) header[name] = [value];
  return {
    messageId: message.messageId,
    url: message.destination,
    method: message.method,
    header,
    body: message.body.toString("utf8"),
    maxRetries: message.maxRetries,
    notBefore: message.notBefore,
    createdAt: message.createdAt,
    failureCallback: message.failureCallback,
  };
}
