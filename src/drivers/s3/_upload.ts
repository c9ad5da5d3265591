import { blobStream, knownLength } from "../../_streams.ts";
import { createError } from "../../_errors.ts";
import { s3Error, s3Request, type S3Context, type S3Error } from "./_request.ts";
import { uploadParts } from "./_multipart.ts";
import { createPartReader, type PartReader } from "../../_parts.ts";
import { sha256, toHex } from "./_crypto.ts";

export interface UploadSettings {
  partSize: number;
  partConcurrency: number;
  multipartThreshold: number;
  /** Content-Type, Cache-Control, x-amz-meta-*: sent on PutObject or CreateMultipartUpload. */
  headers: Record<string, string>;
  /** If-Match / If-None-Match: sent on the commit, PutObject or CompleteMultipartUpload (S3 answers 412 when unmet). */
  conditions?: Record<string, string>;
  signal?: AbortSignal;
}

/** S3 allows at most 10,000 parts per upload. */
const MAX_PARTS = 10_000;

/**
 * Store a raw value. Known lengths up to the threshold go as one PutObject with Content-Length; larger values and
 * streams go as a multipart upload whose memory is bounded by the part size and concurrency, never by the value.
 */
export async function putValue(ctx: S3Context, key: string, value: unknown, settings: UploadSettings): Promise<void> {
  const source = toUploadSource(value);
  if (!source) {
    const type = value === null ? "null" : typeof value === "object" ? value.constructor?.name : typeof value;
    throw createError(ctx.driver, `setItemRaw("${key}"): unsupported value of type ${type}; ` +
      "expected Uint8Array, ArrayBuffer, Blob, ReadableStream or string");
  }
  if (source.kind === "bytes" && source.bytes.byteLength <= settings.multipartThreshold) {
    return putSingle(ctx, key, source.bytes, settings);
  }
  if (source.kind === "blob" && source.blob.size <= settings.multipartThreshold) {
    return putSingle(ctx, key, new Uint8Array(await source.blob.arrayBuffer()), settings);
  }
  const stream = source.kind === "bytes" ? bytesStream(source.bytes) : source.kind === "blob" ? blobStream(source.blob) : source.stream;
  // Streams from our fs driver (and others marked so) say their length up front.
  const size = source.kind === "bytes" ? source.bytes.byteLength : source.kind === "blob" ? source.blob.size : knownLength(stream);
  // A known size beyond 10,000 default parts gets bigger parts rather than a failure at part 10,001.
  const partSize = size === undefined ? settings.partSize : Math.max(settings.partSize, Math.ceil(size / MAX_PARTS));
  // Small values of known length (a small file from our fs driver is one chunk) are read as they come: no BYOB probe.
  const reader = createPartReader(stream, { chunks: size !== undefined && size <= SMALL_VALUE });
  let first: Uint8Array;
  try {
    if (size !== undefined && size <= settings.multipartThreshold) {
      // Known and small: exactly `size` bytes into one buffer of that size (or the source's own chunk), one PUT.
      first = await reader.take(size);
      if (first.byteLength !== size || !(await reader.atEnd())) {
        throw new Error(`the stream was marked as ${size} bytes but ${first.byteLength < size ? `ended after ${first.byteLength}` : "went on"}`);
      }
      return await putSingle(ctx, key, first, settings);
    }
    first = size === undefined ? await readFirstPart(reader, partSize) : await reader.next(new Uint8Array(Math.min(size, partSize)));
  } catch (error) {
    reader.cancel(error);
    if ((error as S3Error)?.operation) throw error;
    throw s3Error(ctx, { operation: "PutObject", key }, `reading the value failed: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }
  // A stream that ends within its first part is small: one PUT saves two round trips and a pending upload.
  if (reader.done && first.byteLength <= settings.multipartThreshold) return putSingle(ctx, key, first, settings);
  await uploadParts(ctx, key, first, reader, { ...settings, partSize, maxParts: MAX_PARTS });
}

/**
 * PutObject of bytes in memory. Integrity: the body's SHA-256 goes in `x-amz-content-sha256`, so it is part of the
 * SigV4 signature and S3 rejects a body that does not match (XAmzContentSHA256Mismatch). We chose this over
 * `x-amz-checksum-sha256` because every S3-compatible verifies it, it needs no checksum algorithm declared at
 * CreateMultipartUpload for parts, and Web Crypto has no MD5 for `Content-MD5`.
 */
export async function putSingle(ctx: S3Context, key: string, bytes: Uint8Array, settings: UploadSettings): Promise<void> {
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
  const response = await s3Request(ctx, {
    operation: "PutObject",
    method: "PUT",
    key,
    headers: { ...settings.headers, ...settings.conditions },
    body: bytes,
    payloadHash: toHex(await sha256(bytes)),
    signal: settings.signal,
  });
  await response.arrayBuffer();
}

/** A value of known length is sent as bytes or a Blob; anything else is read as a stream. */
export type UploadSource =
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "blob"; blob: Blob }
  | { kind: "stream"; stream: ReadableStream<unknown> };

/** Accepts what `setItemRaw` is documented to take; `undefined` for anything else. */
export function toUploadSource(value: unknown): UploadSource | undefined {
  if (typeof value === "string") return { kind: "bytes", bytes: new TextEncoder().encode(value) };
  if (value instanceof Uint8Array) return { kind: "bytes", bytes: value };
  if (value instanceof ArrayBuffer) return { kind: "bytes", bytes: new Uint8Array(value) };
  if (ArrayBuffer.isView(value)) {
    return { kind: "bytes", bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
  }
  if (typeof Blob !== "undefined" && value instanceof Blob) return { kind: "blob", blob: value };
  if (value instanceof ReadableStream) return { kind: "stream", stream: value };
  return undefined;
}

// --- internal ---

/** Up to this known size a stream is read chunk by chunk (a BYOB read would copy a chunk it could hand over). */
const SMALL_VALUE = 256 * 1024;

/** Streams of unknown length are mostly small: their first read goes into a buffer of this size. */
const PROBE_BYTES = 64 * 1024;

/**
 * The first part of a stream of unknown length. The buffer grows ×16 at a time (64 KiB, 1 MiB, …, `partSize`) only
 * while the stream fills it, so a small value never costs a part-sized zero-filled buffer (that allocation, not the
 * network, limited 16 KiB uploads), and a large one copies at most 1/15 of a part on its way up.
 */
async function readFirstPart(reader: PartReader, partSize: number): Promise<Uint8Array> {
  let part = await reader.next(new Uint8Array(Math.min(partSize, PROBE_BYTES)));
  while (part.byteLength < partSize && !reader.done && part.byteLength === part.buffer.byteLength) {
    const bigger = new Uint8Array(Math.min(partSize, part.byteLength * 16));
    bigger.set(part);
    part = await reader.next(bigger, part.byteLength);
  }
  return part;
}

// Slices, not copies: the part reader copies each slice into its part buffer anyway.
function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const slice = 1 << 20;
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.subarray(offset, (offset += slice)));
    },
  });
}
