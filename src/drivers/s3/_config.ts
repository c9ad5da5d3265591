import { AwsClient } from "aws4fetch";
import { createError, createRequiredError } from "../../_errors.ts";
import type { S3Context } from "./_request.ts";
import { createNodeFetch } from "../../transports/node-fetch.ts";
import { createSigner } from "./_sign.ts";
import type { UploadSettings } from "./_upload.ts";

/** Options of the S3 driver; here beside their validation, re-exported by the driver entry. */
export interface S3DriverOptions {
  /** S3 API endpoint without the bucket. Required. @example "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000" */
  endpoint: string;
  /** Bucket name. Required. @example "uploads" */
  bucket: string;
  /** Access key id. Required. */
  accessKeyId: string;
  /** Secret access key. Required; never appears in errors. */
  secretAccessKey: string;
  /** Session token of temporary (STS / IAM role) credentials. Default: none. */
  sessionToken?: string;
  /** Signing region. Default `"us-east-1"`. @example "auto" (Cloudflare R2) */
  region?: string;
  /** `"path"`: `endpoint/bucket/key` (default, works with any endpoint); `"virtual-hosted"`: `bucket.endpoint-host/key`. */
  addressing?: "path" | "virtual-hosted";
  /** Key prefix inside the bucket; `:` and `/` both separate. Default: none. @example "app:uploads" */
  base?: string;
  /** Multipart part size in bytes. Default 8 MiB, at least 5 MiB (S3's minimum). */
  partSize?: number;
  /** Parts uploaded at once. Default 4. An upload holds at most partSize × partConcurrency bytes of parts. */
  partConcurrency?: number;
  /** Values of known length up to this size go as one PutObject. Default 8 MiB, at most 5 GiB. */
  multipartThreshold?: number;
  /** Retries of a request answered 429 or 5xx or failing on the network. Default 3. */
  retries?: number;
  /** Base of the exponential backoff (full jitter) in ms; a Retry-After header wins. Default 100. */
  retryDelay?: number;
  /** Content-Type of written objects: fixed, or per key. Default: by extension, else text/plain (setItem) or application/octet-stream (setItemRaw). */
  contentType?: string | ((key: string) => string | undefined);
  /** Cache-Control of written objects. Default: none. @example "public, max-age=31536000, immutable" */
  cacheControl?: string;
  /**
   * Base URL of the bucket's objects for browsers, for a public bucket or a CDN in front of it: `getUrl(key)` answers
   * `publicUrl/<object key>` (the driver's `base` included) instead of a presigned URL. Default: none (presigned).
   * @example "https://cdn.example.com", "https://uploads.s3.eu-west-1.amazonaws.com"
   */
  publicUrl?: string;
  /** Default lifetime in seconds of presigned URLs from `getUrl(key)`: 1 to 604,800 (7 days). Default 3600. */
  presignExpiresIn?: number;
  /**
   * fetch implementation, e.g. to instrument or proxy requests. Default: the global `fetch`. On Node, `"node"` sends
   * over node:http / node:https instead of undici (`createNodeFetch()` from `queued-storage/node-fetch` with its
   * defaults): less CPU per request, no undici global dispatcher (see docs/3.drivers.md). A string, so that JSON
   * configs (the Nitro module's `remote`) can choose it.
   * @example "node", createNodeFetch({ httpsAgent })
   */
  fetch?: typeof fetch | "node";
}

const MiB = 1024 * 1024;

export type PartSettings = Omit<UploadSettings, "headers" | "signal">;

/** Validates the connection options (at first use, never at import) and builds the signing client. */
export function createContext(driver: string, options: S3DriverOptions): S3Context {
  for (const name of ["endpoint", "bucket", "accessKeyId", "secretAccessKey"] as const) {
    if (!options[name]) throw createRequiredError(driver, name);
  }
  let endpoint: URL;
  try {
    endpoint = new URL(options.endpoint);
  } catch {
    throw createError(driver, `Option \`endpoint\` is not a URL: ${JSON.stringify(options.endpoint)}.`);
  }
  const path = endpoint.pathname.replace(/\/+$/, "");
  const bucket = encodeURIComponent(options.bucket);
  const virtual = options.addressing === "virtual-hosted";
  const bucketUrl = virtual ? `${endpoint.protocol}//${bucket}.${endpoint.host}${path}` : `${endpoint.origin}${path}/${bucket}`;
  const region = options.region ?? "us-east-1";
  return {
    driver,
    bucket: options.bucket,
    client: new AwsClient({
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      sessionToken: options.sessionToken,
      service: "s3",
      region,
      // Our own retry loop (s3Request) is the only one: it also covers network errors and honours Retry-After.
      retries: 0,
    }),
    sign: createSigner({ accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, sessionToken: options.sessionToken, region }),
    fetch: fetchOf(driver, options.fetch),
    retries: nonNegative(driver, "retries", options.retries ?? 3),
    retryDelay: nonNegative(driver, "retryDelay", options.retryDelay ?? 100),
    bucketUrl,
    bucketRoot: virtual ? `${bucketUrl}/` : bucketUrl,
  };
}

/** Validates the upload options against S3's limits. */
export function partSettings(driver: string, options: S3DriverOptions): PartSettings {
  const partSize = options.partSize ?? 8 * MiB;
  if (!(partSize >= 5 * MiB && partSize <= 5 * 1024 * MiB)) {
    throw createError(driver, `Option \`partSize\` must be between 5 MiB and 5 GiB (S3's limits), got ${partSize}.`);
  }
  const partConcurrency = options.partConcurrency ?? 4;
  if (!(Number.isInteger(partConcurrency) && partConcurrency >= 1)) {
    throw createError(driver, `Option \`partConcurrency\` must be a positive integer, got ${partConcurrency}.`);
  }
  const multipartThreshold = nonNegative(driver, "multipartThreshold", options.multipartThreshold ?? 8 * MiB);
  if (multipartThreshold > 5 * 1024 * MiB) {
    throw createError(driver, "Option `multipartThreshold` must be at most 5 GiB (the PutObject limit).");
  }
  return { partSize, partConcurrency, multipartThreshold };
}

// --- internal ---

function fetchOf(driver: string, option: S3DriverOptions["fetch"]): typeof fetch {
  if (option === undefined) return (input, init) => fetch(input, init);
  if (option === "node") return createNodeFetch();
  if (typeof option !== "function") {
    throw createError(driver, `Option \`fetch\` must be a fetch function or "node", got ${JSON.stringify(option)}.`);
  }
  return option;
}

function nonNegative(driver: string, name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw createError(driver, `Option \`${name}\` must be a non-negative number, got ${value}.`);
  }
  return value;
}
