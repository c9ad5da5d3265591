import { createHash, randomBytes } from "node:crypto";

/** One message as the stand-in keeps it: what was published, and where its delivery stands. */
export interface QStashMessage {
  messageId: string;
  kind: "message" | "failure-callback";
  destination: string;
  method: string;
  body: Buffer;
  /** The publish request's `upstash-*` and `content-type` headers, lower-cased. */
  headers: Record<string, string>;
  /** `Upstash-Forward-*` headers with the prefix stripped: what reaches the destination. */
  forward: Record<string, string>;
  maxRetries: number;
  /** Epoch ms before which the message is not delivered. */
  notBefore: number;
  createdAt: number;
  failureCallback?: string;
  timeoutMs?: number;
  /** Retries done so far: 0 on the first attempt. */
  retried: number;
}

/** A Go-style duration as QStash accepts it (`10s`, `5m`, `1d10h30m`, `500ms`) in ms; a bare number means seconds. */
export function parseDuration(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let rest = text;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(match[1]) * units[match[2]!]!;
    rest = rest.replace(match[0], "");
  }
  if (rest !== "") throw new Error(`invalid duration ${JSON.stringify(value)}`);
  return total;
}

/**
 * When the destination asked to be called again (A3): `Retry-After` or `X-RateLimit-Reset*` as seconds, an HTTP
 * date or a Go duration, capped at one day. `undefined` when it did not say.
 */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const names = ["retry-after", "x-ratelimit-reset", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"];
  for (const name of names) {
    const value = headers.get(name)?.trim();
    if (!value) continue;
    let ms: number | undefined;
    if (/^\d+$/.test(value)) ms = Number(value) * 1000;
    else if (/^[\d.]+(ms|s|m|h|d)/.test(value)) ms = safe(() => parseDuration(value));
    else if (!Number.isNaN(Date.parse(value))) ms = Math.max(0, Date.parse(value) - now);
    if (ms !== undefined) return Math.min(ms, 86_400_000);
  }
  return undefined;
}

/** The message a publish (or one batch item) describes. Throws with a message fit for a 400 on bad headers. */
export function messageFromPublish(
  destination: string,
  headers: Record<string, string>,
  body: Buffer,
  now: number,
): QStashMessage {
  const forward: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith("upstash-forward-")) forward[name.slice("upstash-forward-".length)] = value;
  }
  if (headers["content-type"]) forward["content-type"] = headers["content-type"];
  const retries = headers["upstash-retries"];
  const maxRetries = retries === undefined ? 3 : Number(retries);
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new Error(`invalid Upstash-Retries ${retries}`);
  const notBeforeSeconds = headers["upstash-not-before"];
  const notBefore =
    notBeforeSeconds !== undefined ? Number(notBeforeSeconds) * 1000 : now + (parseDuration(headers["upstash-delay"]) ?? 0);
  if (!Number.isFinite(notBefore)) throw new Error(`invalid Upstash-Not-Before ${notBeforeSeconds}`);
  return {
    messageId: newId("msg_"),
    kind: "message",
    destination,
    method: (headers["upstash-method"] ?? "POST").toUpperCase(),
    body,
    headers,
    forward,
    maxRetries,
    notBefore,
    createdAt: now,
    failureCallback: headers["upstash-failure-callback"],
    timeoutMs: parseDuration(headers["upstash-timeout"]),
    retried: 0,
  };
}

/** The key a dedup hit is found by: the explicit id, or (content based) destination, body, type and forwarded headers. */
export function dedupKey(message: QStashMessage): string | undefined {
  const explicit = message.headers["upstash-deduplication-id"];
  if (explicit) return `id:${explicit}`;
  if (message.headers["upstash-content-based-deduplication"] !== "true") return undefined;
  const hash = createHash("sha256").update(message.destination).update("\n").update(message.body);
  for (const [name, value] of Object.entries(message.forward).sort()) hash.update(`\n${name}:${value}`);
  return `content:${hash.digest("hex")}`;
}

/** Header names lower-cased, multiple values joined, like `Headers.entries()` gives them to the SDK. */
export function lowerCaseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return result;
}

/** `<dest>` of `/v2/publish/<dest>` as sent: raw, with its query; a fully percent-encoded URL is decoded. */
export function destinationOf(rawTarget: string): string {
  return /^https?%3A/i.test(rawTarget) ? decodeURIComponent(rawTarget) : rawTarget;
}

export function newId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString("base64url")}`;
}

function safe<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch {
    return undefined;
  }
}
