import type { StorageMeta } from "unstorage";
import { s3Error, s3Request, type S3Context } from "./_request.ts";
import { encodeRfc3986 } from "./_sign.ts";
import { deleteObjectsXml, parseDeleteErrors, parseListPage } from "./_xml.ts";
import { sha256, toBase64, toHex } from "./_crypto.ts";

/** DeleteObjects takes at most 1,000 keys per request. */
const DELETE_BATCH = 1000;

/** Every object key under `prefix`, one ListObjectsV2 page at a time, following continuation tokens. */
export async function* listObjects(ctx: S3Context, prefix: string, signal?: AbortSignal): AsyncGenerator<string[]> {
  let token: string | undefined;
  do {
    let query = `list-type=2&prefix=${encodeRfc3986(prefix)}`;
    if (token) query += `&continuation-token=${encodeRfc3986(token)}`;
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
    const response = await s3Request(ctx, { operation: "ListObjectsV2", method: "GET", query, signal });
    const page = parseListPage(await response.text());
    if (page.isTruncated && (!page.nextToken || page.nextToken === token)) {
      // A missing or repeated token would loop forever or silently stop short.
      throw s3Error(ctx, { operation: "ListObjectsV2" }, `truncated page under prefix "${prefix}" without a new continuation token`);
    }
    token = page.isTruncated ? page.nextToken : undefined;
    if (page.keys.length > 0) yield page.keys;
  } while (token);
}

/** Delete object keys in DeleteObjects batches of at most 1,000; throws naming the keys S3 did not delete. */
export async function deleteObjects(ctx: S3Context, keys: string[], signal?: AbortSignal): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    const batch = keys.slice(i, i + DELETE_BATCH);
    const xml = deleteObjectsXml(batch);
    const hash = await sha256(xml);
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
    // S3 requires a body checksum here; Web Crypto has no MD5, so it is x-amz-checksum-sha256.
    const response = await s3Request(ctx, {
      operation: "DeleteObjects",
      method: "POST",
      query: "delete=",
      headers: {
        "content-type": "application/xml",
        "x-amz-checksum-sha256": toBase64(hash),
        "x-amz-sdk-checksum-algorithm": "SHA256",
      },
      body: xml,
      payloadHash: toHex(hash),
      signal,
    });
    const failed = parseDeleteErrors(await response.text());
    if (failed.length > 0) {
      const sample = failed.slice(0, 5).map((f) => `"${f.key}" (${f.code})`).join(", ");
      throw s3Error(ctx, { operation: "DeleteObjects" }, `${failed.length} of ${batch.length} keys not deleted: ${sample}`);
    }
  }
}

/** HeadObject as unstorage meta: size, mtime, etag, type, cacheControl and user metadata; `null` when missing. */
export async function readMeta(ctx: S3Context, key: string, signal?: AbortSignal): Promise<StorageMeta | null> {
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
  const response = await s3Request(ctx, { operation: "HeadObject", method: "HEAD", key, signal, accept: [404] });
  if (response.status === 404) return null;
  const headers = response.headers;
  const meta: StorageMeta = {};
  for (const [name, value] of headers) {
    if (name.startsWith("x-amz-meta-")) meta[name.slice(11)] = value;
  }
  const lastModified = headers.get("last-modified");
  if (headers.has("content-length")) meta.size = Number(headers.get("content-length"));
  if (lastModified) meta.mtime = new Date(lastModified);
  if (headers.has("etag")) meta.etag = headers.get("etag")!;
  if (headers.has("content-type")) meta.type = headers.get("content-type")!;
  if (headers.has("cache-control")) meta.cacheControl = headers.get("cache-control")!;
  return meta;
}
