import { createError } from "../../_errors.ts";
import type { PartReader } from "../../_parts.ts";
import { s3Error, s3Request, type S3Context, type S3Error } from "./_request.ts";
import { encodeRfc3986 } from "./_sign.ts";
import { completeMultipartXml, parseS3Error, textOf } from "./_xml.ts";
import { sha256, toHex } from "./_crypto.ts";

export interface MultipartSettings {
  partSize: number;
  partConcurrency: number;
  maxParts: number;
  headers: Record<string, string>;
  /** If-Match / If-None-Match: checked by S3 at CompleteMultipartUpload, where the object becomes visible. */
  conditions?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Multipart upload of `first` and whatever `parts` yields. At most `partConcurrency` parts are in flight, each kept
 * in its buffer (for retries) while one more is read: buffers are pooled, so an upload of any size allocates at most
 * partConcurrency + 1 of them. Any failure, including one of the source stream, aborts the upload so that no parts
 * are left behind.
 */
export async function uploadParts(
  ctx: S3Context,
  key: string,
  first: Uint8Array,
  parts: PartReader,
  settings: MultipartSettings,
): Promise<void> {
  let uploadId: string | undefined;
  try {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
    const created = await s3Request(ctx, {
      operation: "CreateMultipartUpload",
      method: "POST",
      key,
      query: "uploads=",
      headers: settings.headers,
      signal: settings.signal,
    });
    uploadId = textOf(await created.text(), "UploadId");
    if (!uploadId) throw s3Error(ctx, { operation: "CreateMultipartUpload", key }, "no UploadId in the response");
  } catch (error) {
    parts.cancel(error);
    throw error;
  }

  const query = (extra: string): string => `${extra}uploadId=${encodeRfc3986(uploadId!)}`;
  const inflight = new Set<Promise<void>>();
  const etags: string[] = [];
  // Every part is a view from offset 0 of a buffer of partSize bytes; finished parts give their buffer back.
  const pool: Uint8Array[] = [];
  const release = (part: Uint8Array): void => {
    // (a first part read to a known, shorter length has a smaller buffer: not reusable as a part)
    if (part.buffer.byteLength >= settings.partSize) pool.push(new Uint8Array(part.buffer, 0, settings.partSize));
  };
  const state: { failure?: { error: unknown } } = {};
  try {
    let bytes = first;
    for (let partNumber = 1; ; partNumber++) {
      if (partNumber > settings.maxParts) {
        throw s3Error(ctx, { operation: "UploadPart", key }, `the value needs more than ${settings.maxParts} parts ` +
          `of ${settings.partSize} bytes; raise \`partSize\``);
      }
      const payloadHash = toHex(await sha256(bytes));
      const part = bytes;
      // https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
      const task = uploadPart(ctx, key, query(`partNumber=${partNumber}&`), part, payloadHash, settings.signal).then(
        (etag) => void (etags[partNumber - 1] = etag, release(part)),
        (error: unknown) => void (state.failure ??= { error }, release(part)),
      );
      inflight.add(task);
      void task.then(() => inflight.delete(task));
      while (inflight.size >= settings.partConcurrency && !state.failure) await Promise.race(inflight);
      if (state.failure) throw state.failure.error;
      if (parts.done) break;
      bytes = await parts.next(pool.pop() ?? new Uint8Array(settings.partSize));
      if (bytes.byteLength === 0) break;
    }
    await Promise.all(inflight);
    // (re-read: a part may have failed while we waited)
    const failure = state.failure as { error: unknown } | undefined;
    if (failure) throw failure.error;

    const xml = completeMultipartXml(etags);
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
    const completed = await s3Request(ctx, {
      operation: "CompleteMultipartUpload",
      method: "POST",
      key,
      query: query(""),
      headers: { "content-type": "application/xml", ...settings.conditions },
      body: xml,
      payloadHash: toHex(await sha256(xml)),
      signal: settings.signal,
    });
    // S3 may answer 200 and still fail: the error is then in the body.
    const { code, message } = parseS3Error(await completed.text());
    if (code) throw s3Error(ctx, { operation: "CompleteMultipartUpload", key }, `${code}: ${message}`, { status: 200, code });
  } catch (error) {
    // Parts still in flight are let finish (they never reject): a part landing after AbortMultipartUpload would
    // survive it (S3 says to abort again in that case), so the abort goes out only once nothing is in flight.
    await Promise.all(inflight);
    parts.cancel(error);
    const aborted = await abortUpload(ctx, key, query(""));
    if (settings.signal?.aborted && error === settings.signal.reason) throw error;
    const reason = (error as S3Error)?.operation ? error : s3Error(ctx, { operation: "UploadPart", key },
      `reading the value failed: ${(error as Error)?.message ?? error}`, { cause: error });
    if (!aborted) throw reason;
    throw createError(ctx.driver, `${(reason as Error).message}; then ${aborted.message.replace(/^\[unstorage\] \[[^\]]*\] /, "")} ` +
      `(upload ${uploadId} may keep its parts until a lifecycle rule removes them)`, { cause: reason });
  }
}

// --- internal ---

async function uploadPart(
  ctx: S3Context,
  key: string,
  query: string,
  body: Uint8Array,
  payloadHash: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const response = await s3Request(ctx, { operation: "UploadPart", method: "PUT", key, query, body, payloadHash, signal });
  await response.arrayBuffer();
  const etag = response.headers.get("etag");
  if (!etag) throw s3Error(ctx, { operation: "UploadPart", key }, "no ETag in the response (CORS must expose it)");
  return etag;
}

/** Returns the error when the abort itself failed, so the caller can say so. */
async function abortUpload(ctx: S3Context, key: string, query: string): Promise<S3Error | undefined> {
  try {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
    const response = await s3Request(ctx, { operation: "AbortMultipartUpload", method: "DELETE", key, query, accept: [404] });
    await response.arrayBuffer();
    return undefined;
  } catch (error) {
    return error as S3Error;
  }
}
