import { _error, _messageOf } from "../_errors.ts";
import { _validateJob } from "../_job.ts";
import { _readBody, type _BodyRefusal } from "./_body.ts";
import { _env, _failureCallbackUrl, _isFailureUrl } from "./_qstash-shared.ts";
import { _bodyMatches, _signingKeys, _verifyToken } from "./_qstash-token.ts";
import type { TransferJob } from "../contracts.ts";
import type { QueuedStorageControls } from "../types.ts";

/** Options of {@link createTransferHandler}. */
export interface TransferHandlerOptions {
  /**
   * The current QStash signing key. Default: env `QSTASH_CURRENT_SIGNING_KEY`.
   * @example currentSigningKey: env.QSTASH_CURRENT_SIGNING_KEY
   */
  currentSigningKey?: string;
  /**
   * The next QStash signing key, accepted too so that rolling the keys never rejects a delivery.
   * Default: env `QSTASH_NEXT_SIGNING_KEY`.
   * @example nextSigningKey: env.QSTASH_NEXT_SIGNING_KEY
   */
  nextSigningKey?: string;
  /**
   * The public URL of this webhook, exactly as given to `qstashQueue({ url })`. When set, the signature's `sub`
   * must be this URL (or, for dead letters, the failure-callback URL), so a token signed for another endpoint of
   * the same QStash account is refused. Strongly recommended in production.
   * @example url: "https://app.example.com/api/transfer"
   */
  url?: string;
  /**
   * The failure-callback URL given to `qstashQueue({ failureCallbackUrl })`, if you set one there; like there,
   * `?queued-storage=failure` is added. Default: `url` with `?queued-storage=failure` added.
   * @example failureCallbackUrl: "https://app.example.com/api/transfer-failed"
   */
  failureCallbackUrl?: string;
  /**
   * Seconds of clock skew tolerated on the token's `exp`/`nbf`.
   * @default 5
   * @example clockTolerance: 30
   */
  clockTolerance?: number;
  /**
   * Milliseconds a request may take to deliver its body once its token is verified; a slower one gets 408 and its
   * connection is closed. QStash sends the few bytes of a job at once.
   * @default 10000
   * @example bodyTimeoutMs: 3000
   */
  bodyTimeoutMs?: number;
  /**
   * Largest job body accepted, in bytes; larger ones get 413 without being read to the end.
   * @default 4096
   * @example maxBodyBytes: 2048
   */
  maxBodyBytes?: number;
  /**
   * Largest failure-callback body accepted, in bytes (it carries the original body, the last response and headers).
   * @default 65536
   * @example maxFailureBodyBytes: 131072
   */
  maxFailureBodyBytes?: number;
}

/**
 * The webhook QStash calls: verifies `Upstash-Signature` over the exact raw body, validates the job strictly, runs
 * it with `target.handle(job)` and answers so that QStash retries exactly when it should: 200 done (`transferred`,
 * `stale`, `already-remote`), 503 + `Retry-After` when another transfer holds the key, 500 for a failed attempt,
 * 489 + `Upstash-NonRetryable-Error` when retrying cannot help. Dead letters arriving on the failure-callback URL
 * mark the key `failed` through `target.fail(job, reason)`; `sync()` queues it again later.
 *
 * @example
 * const handler = createTransferHandler(storage, { url: "https://app.example.com/api/transfer" });
 * export default { fetch: handler }; // or app.post("/api/transfer", (c) => handler(c.req.raw))
 */
export function createTransferHandler(
  target: Pick<QueuedStorageControls, "handle" | "fail">,
  options: TransferHandlerOptions = {},
): (request: Request) => Promise<Response> {
  if (typeof target?.handle !== "function" || typeof target.fail !== "function") {
    throw _error("createTransferHandler(target): `target` must have handle(job) and fail(job, reason)", { scope: "qstash" });
  }
  const currentSigningKey = options.currentSigningKey ?? _env("QSTASH_CURRENT_SIGNING_KEY");
  const nextSigningKey = options.nextSigningKey ?? _env("QSTASH_NEXT_SIGNING_KEY");
  const missing = [
    !currentSigningKey && "`currentSigningKey` (env QSTASH_CURRENT_SIGNING_KEY)",
    !nextSigningKey && "`nextSigningKey` (env QSTASH_NEXT_SIGNING_KEY)",
  ].filter(Boolean);
  if (missing.length > 0) throw _error(`createTransferHandler: missing ${missing.join(" and ")}`, { scope: "qstash" });
  // Only the keys given here count: the public dev-server keys are never accepted, whatever QSTASH_DEV says.
  const keys = _signingKeys(currentSigningKey!, nextSigningKey!);
  const failureBase = options.failureCallbackUrl ?? options.url;
  const failureUrl = failureBase ? _failureCallbackUrl(failureBase) : undefined;
  const maxBodyBytes = options.maxBodyBytes ?? 4096;
  const maxFailureBodyBytes = options.maxFailureBodyBytes ?? 65_536;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const clockTolerance = options.clockTolerance ?? 5;
  for (const [name, value] of Object.entries({ maxBodyBytes, maxFailureBodyBytes, bodyTimeoutMs, clockTolerance })) {
    if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
      throw _error(`createTransferHandler: option \`${name}\` must be a non-negative number, got ${String(value)}`, { scope: "qstash" });
    }
  }

  return async function handleTransferRequest(request: Request): Promise<Response> {
    if (request.method !== "POST") return _json(405, { error: "method not allowed: use POST" }, { allow: "POST" });
    // The token is checked before a byte of the body is read: a request without a valid one costs no body read.
    const signature = request.headers.get("upstash-signature");
    if (!signature) return _refuse(401, "missing Upstash-Signature header");
    const failure = _isFailureUrl(request.url);
    let bodyClaim: string;
    try {
      const subject = failure ? failureUrl : options.url;
      bodyClaim = await _verifyToken(signature, await keys(), { subjects: subject ? [subject] : undefined, clockTolerance });
    } catch (error) {
      // The reason (bad signature, expired, subject) names no secret and tells the operator reading QStash's logs
      // why deliveries are refused, e.g. a `url` that differs from the published one.
      return _refuse(401, `invalid Upstash-Signature: ${_messageOf(error)}`);
    }
    const limit = failure ? maxFailureBodyBytes : maxBodyBytes;
    const read = await _readBody(request, limit, bodyTimeoutMs);
    if ("refused" in read) return _refuse(..._REFUSALS[read.refused](limit, bodyTimeoutMs));
    // The hash is taken over the exact raw bytes: re-serializing parsed JSON would change them.
    if (!(await _bodyMatches(read.bytes, bodyClaim))) {
      return _json(401, { error: "invalid Upstash-Signature: body hash does not match the token's body claim" });
    }
    let body: string;
    try {
      body = new TextDecoder("utf-8", { fatal: true }).decode(read.bytes);
    } catch {
      return _json(400, { error: "body is not valid UTF-8" });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return _json(400, { error: "body is not valid JSON" });
    }
    return failure ? _deadLetter(target, payload) : _run(target, payload);
  };
}

// --- internal ---

async function _run(target: Pick<QueuedStorageControls, "handle">, payload: unknown): Promise<Response> {
  let job: TransferJob;
  try {
    job = _validateJob(payload);
  } catch (error) {
    return _json(400, { error: _rebrand(error) });
  }
  try {
    const outcome = await target.handle(job);
    // Another transfer holds the key: a 503 makes QStash come back, Retry-After says soon.
    if (outcome === "busy") return _json(503, { status: outcome }, { "retry-after": "1" });
    return _json(200, { status: outcome });
  } catch (error) {
    const message = _messageOf(error);
    if ((error as { retryable?: boolean } | null)?.retryable === false) {
      return _json(489, { error: message }, { "upstash-nonretryable-error": "true" });
    }
    return _json(500, { error: message });
  }
}

async function _deadLetter(target: Pick<QueuedStorageControls, "fail">, payload: unknown): Promise<Response> {
  const letter = payload as Record<string, unknown> | null;
  const isLetter = !!letter && typeof letter === "object" && typeof letter.dlqId === "string";
  if (!isLetter || typeof letter.sourceBody !== "string") {
    return _json(400, { error: "not a failure callback: expected { dlqId, sourceBody, … }" });
  }
  let job: TransferJob;
  try {
    job = _validateJob(JSON.parse(_decodeBase64(letter.sourceBody)));
  } catch (error) {
    return _json(400, { error: `failure callback for an invalid job: ${_rebrand(error)}` });
  }
  try {
    await target.fail(job, _reason(letter));
  } catch (error) {
    return _json(500, { error: _messageOf(error) });
  }
  return _json(200, { status: "failed" });
}

/** What the key's `error` will say: how often QStash tried, the last answer, and the DLQ id to look the message up. */
function _reason(letter: Record<string, unknown>): string {
  const retried = typeof letter.retried === "number" ? letter.retried : "?";
  const status = typeof letter.status === "number" && letter.status > 0 ? `${letter.status}` : "no response";
  let last = "";
  try {
    last = typeof letter.body === "string" ? _decodeBase64(letter.body) : "";
    const parsed = JSON.parse(last) as { error?: unknown };
    if (typeof parsed?.error === "string") last = parsed.error;
  } catch {
    // not JSON: keep the text as it is
  }
  const snippet = last.length > 300 ? `${last.slice(0, 300)}…` : last;
  const response = snippet ? `${status}: ${snippet}` : status;
  return `QStash gave up after ${retried} retries (dlqId ${letter.dlqId}): last response ${response}`;
}

function _decodeBase64(text: string): string {
  const binary = atob(text);
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** Core validation messages, said by this entry. */
function _rebrand(error: unknown): string {
  return `[queued-storage] [qstash] ${_messageOf(error).replace(/^\[queued-storage\] /, "")}`;
}

/** Status and message of each way a body read can end early. */
const _REFUSALS: Record<_BodyRefusal, (limit: number, timeoutMs: number) => [number, string]> = {
  "too-large": (limit) => [413, `body larger than ${limit} bytes`],
  timeout: (_, timeoutMs) => [408, `body not received within ${timeoutMs} ms`],
  aborted: () => [400, "the request body was aborted"],
  unreadable: () => [400, "the request body was already read (mount the webhook before body-parsing middleware)"],
};

/**
 * An answer to a request whose body was not read to its end: `Connection: close` makes the server drop the
 * connection after the response, rather than keep reading (and, on some servers, buffering) a body nobody wants.
 */
function _refuse(status: number, error: string): Response {
  return _json(status, { error }, { connection: "close" });
}

function _json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
