import type { AwsClient } from "aws4fetch";
import { createError } from "../../_errors.ts";
import { encodeRfc3986, type RequestSigner } from "./_sign.ts";
import { parseS3Error } from "./_xml.ts";

/** What every S3 call needs; built once, lazily, by the driver. */
export interface S3Context {
  driver: string;
  bucket: string;
  /** aws4fetch's client: `getInstance().client`, and the signer of presigned URLs. */
  client: AwsClient;
  /** Signs the driver's requests (`_sign.ts`). */
  sign: RequestSigner;
  fetch: typeof fetch;
  retries: number;
  retryDelay: number;
  /** Prefix of object URLs: `https://host/bucket` (path-style) or `https://bucket.host` (virtual-hosted). */
  bucketUrl: string;
  /** URL of bucket-level calls (ListObjectsV2, DeleteObjects): `https://host/bucket` or `https://bucket.host/`. */
  bucketRoot: string;
}

export interface S3Call {
  /** The S3 API operation, for error messages: `GetObject`, `UploadPart`, … */
  operation: string;
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  /** S3 object key (`/`-separated, unencoded); omitted for bucket-level calls. */
  key?: string;
  /** Query string without `?`, already encoded. */
  query?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Hex SHA-256 of `body`. Signing it makes S3 verify the payload (see `_upload.ts`). */
  payloadHash?: string;
  signal?: AbortSignal;
  /** Statuses returned to the caller instead of thrown, e.g. 404 for reads. */
  accept?: number[];
}

/** An S3 failure: names the operation, bucket and key; never carries credentials, signatures or raw bodies. */
export interface S3Error extends Error {
  operation: string;
  bucket: string;
  key?: string;
  status?: number;
  code?: string;
}

/** Sign (SigV4), send with the driver's fetch, retry 429/5xx/network errors with backoff. */
export async function s3Request(ctx: S3Context, call: S3Call): Promise<Response> {
  const url = objectUrl(ctx, call.key) + (call.query ? `?${call.query}` : "");
  let lastError: S3Error | undefined;
  for (let attempt = 0; attempt <= ctx.retries; attempt++) {
    if (attempt > 0) await backoff(ctx.retryDelay, attempt, lastError, call.signal);
    call.signal?.throwIfAborted();
    // Headers only: the payload hash travels in a header, so the body is never read for signing.
    const headers = await ctx.sign(call.method, url, { ...call.headers, "x-amz-content-sha256": call.payloadHash ?? "UNSIGNED-PAYLOAD" });
    let response: Response;
    try {
      response = await ctx.fetch(url, { method: call.method, signal: call.signal, ...requestBody(headers, call.body) });
    } catch (cause) {
      if (call.signal?.aborted) throw cause;
      lastError = s3Error(ctx, call, `${(cause as Error)?.message ?? cause}`, { cause });
      continue;
    }
    if (response.ok || call.accept?.includes(response.status)) return response;
    const text = call.method === "HEAD" ? "" : await response.text().catch(() => "");
    const { code, message } = parseS3Error(text);
    lastError = s3Error(ctx, call, `${response.status} ${code ?? response.statusText}${message ? `: ${message}` : ""}`, {
      status: response.status,
      code,
      retryAfter: response.headers.get("retry-after"),
    });
    if (response.status !== 429 && response.status < 500) break;
  }
  if (lastError && ctx.retries > 0 && (lastError.status === undefined || lastError.status >= 500 || lastError.status === 429)) {
    lastError.message += ` (gave up after ${ctx.retries + 1} attempts)`;
  }
  throw lastError!;
}

/** The URL of an object (or of the bucket when `key` is undefined), each key segment encoded per RFC 3986. */
export function objectUrl(ctx: Pick<S3Context, "bucketUrl" | "bucketRoot">, key?: string): string {
  if (key === undefined) return ctx.bucketRoot;
  return `${ctx.bucketUrl}/${key.split("/").map(encodeRfc3986).join("/")}`;
}

export function s3Error(
  ctx: Pick<S3Context, "driver" | "bucket">,
  call: Pick<S3Call, "operation" | "key">,
  detail: string,
  extra: { status?: number; code?: string; cause?: unknown; retryAfter?: string | null } = {},
): S3Error {
  const where = call.key === undefined ? `bucket "${ctx.bucket}"` : `"${call.key}" in bucket "${ctx.bucket}"`;
  const error = createError(ctx.driver, `${call.operation} failed for ${where}: ${detail}`, { cause: extra.cause }) as S3Error;
  error.operation = call.operation;
  error.bucket = ctx.bucket;
  if (call.key !== undefined) error.key = call.key;
  if (extra.status !== undefined) error.status = extra.status;
  if (extra.code !== undefined) error.code = extra.code;
  if (extra.retryAfter) Object.defineProperty(error, "retryAfter", { value: extra.retryAfter, enumerable: false });
  return error;
}

// --- internal ---

/** Node's fetch (undici) honours our Content-Length on a stream body; Deno and others would send it chunked. */
const STREAM_BODIES = typeof navigator === "undefined" || navigator.userAgent?.startsWith("Node.js/") === true;
// 1 MiB views: undici writes each to the socket as it is (no copy); 64 KiB ones cost 3.0–3.5 ms of CPU per MiB
// uploaded against 2.3–2.5 (bench 7, 256 MiB in 8 MiB parts).
const STREAM_SLICE = 1024 * 1024;

/**
 * Node's fetch copies a byte body whole before sending it, which doubles the memory of every part in flight. There
 * the bytes go as a stream of views with the Content-Length set (never chunked: S3 refuses that); elsewhere as bytes.
 */
function requestBody(headers: Record<string, string>, body: Uint8Array | string | undefined): RequestInit {
  if (!(body instanceof Uint8Array) || !STREAM_BODIES || body.byteLength <= STREAM_SLICE) {
    return { headers, body: (body ?? null) as BodyInit | null };
  }
  headers["content-length"] = String(body.byteLength);
  let offset = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= body.byteLength) return controller.close();
      controller.enqueue(body.subarray(offset, (offset += STREAM_SLICE)));
    },
  });
  return { headers, body: stream, duplex: "half" } as RequestInit;
}

const MAX_DELAY_MS = 20_000;

// Exponential backoff with full jitter (AWS architecture blog), or the server's Retry-After when it sends one.
async function backoff(base: number, attempt: number, last: S3Error | undefined, signal?: AbortSignal): Promise<void> {
  const retryAfter = Number((last as { retryAfter?: string } | undefined)?.retryAfter);
  const delay = Number.isFinite(retryAfter) && retryAfter > 0
    ? Math.min(retryAfter * 1000, MAX_DELAY_MS)
    : Math.random() * Math.min(MAX_DELAY_MS, base * 2 ** (attempt - 1));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(done, delay);
    signal?.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      if (signal?.aborted) reject(signal.reason);
      else resolve();
    }
  });
}
