import { AwsClient } from "aws4fetch";
import { createError, createRequiredError } from "./_utils.ts";
import type { S3Context } from "./_s3-request.ts";
import type { UploadSettings } from "./_s3-upload.ts";
import type { S3DriverOptions } from "./s3.ts";

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
  return {
    driver,
    bucket: options.bucket,
    client: new AwsClient({
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      sessionToken: options.sessionToken,
      service: "s3",
      region: options.region ?? "us-east-1",
      // Our own retry loop (s3Request) is the only one: it also covers network errors and honours Retry-After.
      retries: 0,
    }),
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
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

function nonNegative(driver: string, name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw createError(driver, `Option \`${name}\` must be a non-negative number, got ${value}.`);
  }
  return value;
}
