import type { AwsClient } from "aws4fetch";
import type { Driver, StorageMeta } from "unstorage";
import { createError } from "../../_errors.ts";
import { _keyDepth, _keyPath } from "../../_keys.ts";
import { contentTypeOf } from "../../_mime.ts";
import { rangeOf, sliceStream, type ByteRange } from "../../_streams.ts";
import { deleteObjects, listObjects, readMeta } from "./_bucket.ts";
import { createContext, partSettings, type PartSettings, type S3DriverOptions } from "./_config.ts";
import { objectUrl, s3Request, type S3Context } from "./_request.ts";
import { putValue } from "./_upload.ts";
import { presignedUrl, urlSettings, type S3UrlOptions, type S3UrlSettings } from "./_url.ts";

export type { ByteRange } from "../../_streams.ts";
export type { S3DriverOptions } from "./_config.ts";
export type { S3UrlOptions } from "./_url.ts";

export interface S3DriverInstance {
  client: AwsClient;
  bucket: string;
  /** The object key in the bucket for a driver key (`base` applied, `:` → `/`). */
  objectKey(key: string): string;
  /** The object's URL for a driver key, in the configured addressing style (unsigned: what requests go to). */
  url(key: string): string;
  /**
   * A URL a browser can GET the object at: `publicUrl` + key when that option is set, else a presigned GetObject URL
   * valid for `expiresIn` seconds, with optional response Content-Type / Content-Disposition overrides. Queued
   * storage's `url(key)` uses it once a key is on this tier.
   * @example await driver.getInstance().getUrl("videos:a.mp4", { expiresIn: 300, contentDisposition: "attachment" })
   */
  getUrl(key: string, options?: S3UrlOptions): Promise<string>;
}

const DRIVER_NAME = "queued-storage:s3";

/**
 * Streaming S3 driver on aws4fetch: edge-safe (fetch, Web Streams, Web Crypto only), multipart uploads with bounded
 * memory, paginated prefix listing, scoped `clear(base)`, retries with backoff. `getItemRaw(key, { type: "stream",
 * range: { offset, length } })` is a ranged GetObject; `getInstance().getUrl(key)` a presigned (or public) URL.
 * @example
 * const storage = createStorage({ driver: s3Driver({ endpoint, bucket, accessKeyId, secretAccessKey, region }) });
 * await storage.setItemRaw("videos:a.mp4", file.stream());
 */
export default function s3Driver(options: S3DriverOptions): Driver<S3DriverOptions, S3DriverInstance> {
  let _ctx: S3Context | undefined;
  let _settings: PartSettings | undefined;
  let _urls: S3UrlSettings | undefined;
  const basePrefix = _keyPath(options.base);

  const getContext = (): S3Context => (_ctx ??= createContext(DRIVER_NAME, options));
  const settings = (): PartSettings => (_settings ??= partSettings(DRIVER_NAME, options));
  const urls = (): S3UrlSettings => (_urls ??= urlSettings(DRIVER_NAME, options));
  const objectKey = (key: string): string => {
    const path = _keyPath(key);
    if (!path || path.split("/").some((s) => s === "." || s === "..")) {
      throw createError(DRIVER_NAME, `Invalid key ${JSON.stringify(key)}: empty, or with "." or ".." segments.`);
    }
    return basePrefix ? `${basePrefix}/${path}` : path;
  };
  const listPrefix = (base: string | undefined): string =>
    [basePrefix, _keyPath(base)].filter(Boolean).map((p) => `${p}/`).join("");
  const headersFor = (key: string, opts: TransactionOptions, fallbackType: string): Record<string, string> => {
    const type = typeof options.contentType === "function" ? options.contentType(key) : options.contentType;
    return {
      "content-type": type ?? contentTypeOf(key, fallbackType),
      ...(options.cacheControl ? { "cache-control": options.cacheControl } : {}),
      ...lowerCase(opts.headers),
      ...metaHeaders(opts.meta),
    };
  };
  const upload = (key: string, value: unknown, opts: TransactionOptions, fallbackType: string): Promise<void> => {
    const path = objectKey(key);
    const headers = headersFor(path, opts, fallbackType);
    return putValue(getContext(), path, value, { ...settings(), headers, conditions: conditionsOf(opts), signal: opts.signal });
  };
  // conditionalWrites: setItem/setItemRaw honour `ifMatch` / `ifNoneMatch` (412 when the object changed) and `meta`.
  // ranges: getItemRaw reads a byte range (`range: { offset, length }`) with one ranged GetObject.
  const flags = { maxDepth: true, streams: true, ranges: true, conditionalWrites: true };
  const get = async (key: string, opts: TransactionOptions, range?: ByteRange): Promise<Response | null> => {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html — a ranged GET reads only those bytes;
    // 416 (InvalidRange) is a range starting past the end: nothing to read there.
    const headers = range ? { range: `bytes=${range.offset}-${range.length === undefined ? "" : range.offset + range.length - 1}` } : undefined;
    const response = await s3Request(getContext(), { operation: "GetObject", method: "GET", key, headers, signal: opts.signal, accept: [404, 416] });
    if (response.status === 200 || response.status === 206) return response;
    await response.arrayBuffer();
    return response.status === 416 ? new Response(new Uint8Array(0)) : null;
  };

  return {
    name: DRIVER_NAME,
    options,
    flags,
    getInstance: (): S3DriverInstance => {
      const ctx = getContext();
      return {
        client: ctx.client,
        bucket: ctx.bucket,
        objectKey,
        url: (key) => objectUrl(ctx, objectKey(key)),
        getUrl: async (key, urlOptions) => presignedUrl(ctx, urls(), objectKey(key), urlOptions),
      };
    },
    async hasItem(key, opts: TransactionOptions = {}) {
      return (await readMeta(getContext(), objectKey(key), opts.signal)) !== null;
    },
    async getItem(key, opts: TransactionOptions = {}) {
      const response = await get(objectKey(key), opts);
      return response ? response.text() : null;
    },
    async getItemRaw(key, opts: TransactionOptions = {}) {
      const range = rangeOf(DRIVER_NAME, opts);
      if (range?.length === 0) return opts.type === "stream" ? new Blob([]).stream() : new Uint8Array(0);
      const response = await get(objectKey(key), opts, range);
      if (!response) return null;
      // A server that ignores Range answers 200 with everything, and some S3-compatibles answer 206 with more than was
      // asked (s3rver reads `bytes=0-0` as "from 0 to the end"): cut it down here rather than hand back the rest.
      if (range && response.body && !exactRange(response, range)) return rangeFromWhole(response, range, opts.type === "stream");
      if (opts.type === "stream") return response.body ?? new Blob([]).stream();
      return new Uint8Array(await response.arrayBuffer());
    },
    async getMeta(key, opts: TransactionOptions = {}): Promise<StorageMeta | null> {
      return readMeta(getContext(), objectKey(key), opts.signal);
    },
    async setItem(key, value: string, opts: TransactionOptions = {}) {
      await upload(key, value, opts, "text/plain; charset=utf-8");
    },
    async setItemRaw(key, value: unknown, opts: TransactionOptions = {}) {
      await upload(key, value, opts, "application/octet-stream");
    },
    async removeItem(key, opts: TransactionOptions = {}) {
      // https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html (404 from S3-compatibles: already gone)
      const response = await s3Request(getContext(), {
        operation: "DeleteObject",
        method: "DELETE",
        key: objectKey(key),
        signal: opts.signal,
        accept: [404],
      });
      await response.arrayBuffer();
    },
    async getKeys(base, opts: TransactionOptions & { maxDepth?: number } = {}) {
      const keys: string[] = [];
      for await (const page of listObjects(getContext(), listPrefix(base), opts.signal)) {
        for (const path of page) {
          const key = basePrefix ? path.slice(basePrefix.length + 1) : path;
          // Folder markers (`dir/`) and keys with empty segments have no unstorage key that maps back to them.
          if (!key || key.split("/").includes("")) continue;
          const driverKey = key.replaceAll("/", ":");
          if (opts.maxDepth === undefined || _keyDepth(driverKey) <= opts.maxDepth) keys.push(driverKey);
        }
      }
      return keys;
    },
    async clear(base, opts: TransactionOptions = {}) {
      const ctx = getContext();
      // Delete page by page: each ListObjectsV2 page (≤ 1,000 keys) is one DeleteObjects batch.
      for await (const page of listObjects(ctx, listPrefix(base), opts.signal)) {
        await deleteObjects(ctx, page, opts.signal);
      }
    },
    dispose() {
      // Nothing is held open between calls; kept so that storage.dispose() and unmount() may call it any number of times.
    },
  };
}

// --- internal ---

interface TransactionOptions {
  type?: string;
  range?: ByteRange;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Commit (PutObject or CompleteMultipartUpload) only over the object with this ETag; 412 otherwise. */
  ifMatch?: string;
  /** `"*"`: commit only if the key holds no object; 412 otherwise. */
  ifNoneMatch?: string;
  /** User metadata stored with the object as `x-amz-meta-<name>`; `getMeta` returns it. */
  meta?: Record<string, string>;
}

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
function conditionsOf(opts: TransactionOptions): Record<string, string> {
  const conditions: Record<string, string> = {};
  if (opts.ifMatch) conditions["if-match"] = opts.ifMatch;
  if (opts.ifNoneMatch) conditions["if-none-match"] = opts.ifNoneMatch;
  return conditions;
}

function metaHeaders(meta: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(meta ?? {}).map(([name, value]) => [`x-amz-meta-${name.toLowerCase()}`, String(value)]));
}

function lowerCase(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
}

/** Whether a ranged GetObject answer holds exactly the range asked for (206 with a Content-Range starting there, not longer). */
function exactRange(response: Response, range: ByteRange): boolean {
  if (response.status !== 206) return false;
  const match = /^bytes (\d+)-(\d+)\//.exec(response.headers.get("content-range") ?? "");
  if (!match) return false;
  const [start, end] = [Number(match[1]), Number(match[2])];
  return start === range.offset && (range.length === undefined || end - start + 1 <= range.length);
}

/** The asked range out of a larger answer: the whole object (200) or a range that starts at or before it (206). */
async function rangeFromWhole(response: Response, range: ByteRange, stream: boolean): Promise<ReadableStream<Uint8Array> | Uint8Array> {
  const start = response.status === 206 ? Number(/^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "")?.[1] ?? 0) : 0;
  const slice = sliceStream(response.body!, { offset: Math.max(0, range.offset - start), length: range.length });
  return stream ? slice : new Uint8Array(await new Response(slice).arrayBuffer());
}
