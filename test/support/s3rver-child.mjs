// Runs s3rver in its own process (started with --openssl-legacy-provider, which its ListObjectsV2 continuation
// tokens need) and adds what s3rver 3.7.1 lacks, so that the driver is tested against S3's real rules:
//   - SigV4 header signatures are verified (s3rver accepts any v4 signature), as are signed payload hashes
//     (x-amz-content-sha256) and x-amz-checksum-sha256 bodies, and presigned (query-signed) URLs; their expiry
//     s3rver checks itself;
//   - PutObject/UploadPart need a Content-Length (AWS rejects chunked uploads: 411 MissingContentLength);
//   - DeleteObjects needs a body checksum, as on AWS;
//   - AbortMultipartUpload, ListMultipartUploads and ListParts exist; parts of unknown uploads are NoSuchUpload;
//   - CompleteMultipartUpload rejects parts under 5 MiB except the last (EntityTooSmall);
//   - objects and parts are on disk completely before the answer (s3rver answers before its file is flushed),
//     and DeleteObjects does not trip over its own directory pruning;
//   - an object, its ETag and its metadata are replaced atomically (write, then rename), so a listing or a read
//     running beside a write never sees a half-written file (s3rver answers 500 to a torn metadata.json);
//   - conditional writes: PutObject and CompleteMultipartUpload honour If-None-Match: * and If-Match: <etag>
//     (412 PreconditionFailed, or 404 NoSuchKey for If-Match on a missing key), checked and committed atomically
//     per key (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
// Usage: node --openssl-legacy-provider s3rver-child.mjs <directory> <bucket>; prints {"port":…} when ready.
import { createHash, createHmac } from "node:crypto";
import { createRequire } from "node:module";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PassThrough, Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import S3rver from "s3rver";

const require = createRequire(import.meta.url);
const S3Error = require("s3rver/lib/models/error.js");
const S3Object = require("s3rver/lib/models/object.js");

const [directory, bucket] = process.argv.slice(2);
const SECRETS = { S3RVER: "S3RVER" };
const MIN_PART = 5 * 1024 * 1024;

const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, configureBuckets: [{ name: bucket }] });
server.middleware.unshift(verifyRequest, missingOperations, conditionalWrites);
// s3rver's DeleteObjects deletes keys concurrently and each delete prunes empty directories, so two of them race
// on the same rmdir (ENOENT/ENOTEMPTY, answered 500). S3 has no directories: the object is gone, so ignore that.
// s3rver answers PutObject/UploadPart when its hashing stream ends, before the file is flushed: a request right
// after (CompleteMultipartUpload, GetObject) could see a short file. Write completely, then answer.
server.store.putObject = async function putObject(object) {
  const path = this.getResourcePath(object.bucket, object.key, "object");
  const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  const { size, md5 } = await writeFully(content, path);
  await this.putMetadata(object.bucket, object.key, object.metadata, md5);
  return { size, md5 };
};
server.store.putMetadata = async function putMetadata(bucketName, key, metadata, md5) {
  const kept = Object.entries(metadata).filter(([name]) => S3Object.ALLOWED_METADATA.includes(name) || name.startsWith("x-amz-meta-"));
  if (md5) await writeAtomically(this.getResourcePath(bucketName, key, "object.md5"), md5);
  await writeAtomically(this.getResourcePath(bucketName, key, "metadata.json"), JSON.stringify(Object.fromEntries(kept), null, 2));
};
server.store.putPart = async function putPart(bucketName, uploadId, partNumber, content) {
  const path = join(this.getResourcePath(bucketName, undefined, "uploads"), uploadId, String(partNumber));
  const { size, md5 } = await writeFully(content, path);
  await writeFile(`${path}.md5`, md5);
  return { size, md5 };
};
const deleteObject = server.store.deleteObject.bind(server.store);
server.store.deleteObject = (bucketName, key) =>
  deleteObject(bucketName, key).catch((error) => {
    if (error.code !== "ENOENT" && error.code !== "ENOTEMPTY") throw error;
  });
// Internal errors (500) of s3rver itself go to stderr, which the parent shows when something fails.
server.on("error", (error) => {
  // A client that stops reading a body (a cancelled stream) is not a server fault.
  if (error.code === "ECONNRESET" || error.code === "EPIPE") return;
  if (!(error instanceof S3Error) || error.status >= 500) process.stderr.write(`${error.stack ?? error}\n`);
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
// The parent closes our stdin when it stops us or dies: never outlive it.
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
// "gc" on stdin: a full collection now (the child runs with --expose-gc), answered "gc done" on stdout. The benchmark
// asks before each measured run, so that no run pays for the garbage of the one before it.
process.stdin.setEncoding("utf8").on("data", (text) => {
  if (!text.includes("gc\n")) return;
  globalThis.gc?.();
  process.stdout.write("gc done\n");
});
process.on("SIGTERM", () => process.exit(0));

function s3error(code, message, detail, status) {
  const error = new S3Error(code, message, detail);
  if (status) error.status = status;
  error.expose = true;
  return error;
}

function parseUrl(ctx) {
  // ctx.req may be the replayed body by now: the URL is kept in ctx.state.
  ctx.state.rawUrl ??= ctx.req.url;
  const [rawPath, rawQuery = ""] = ctx.state.rawUrl.split("?");
  const segments = rawPath.split("/").slice(1).map((s) => decodeURIComponent(s));
  return { rawPath, rawQuery, bucket: segments[0], key: segments.slice(1).join("/"), query: new URLSearchParams(rawQuery) };
}

const rfc3986 = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (data) => createHash("sha256").update(data);
const hmac = (key, data) => createHmac("sha256", key).update(data).digest();

/**
 * The SigV4 signature a request should carry (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html),
 * for both the Authorization header and presigned URLs (which leave their own X-Amz-Signature out of the query).
 */
function signatureOf(ctx, { secret, date, region, service, amzDate, signed, payloadHash, dropQuery }) {
  const { rawPath, rawQuery } = parseUrl(ctx);
  const canonicalQuery = [...new URLSearchParams(rawQuery)]
    .filter(([k]) => k !== dropQuery)
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([k1, v1], [k2, v2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalRequest = [
    ctx.method,
    rawPath.split("/").map((s) => rfc3986(decodeURIComponent(s))).join("/"),
    canonicalQuery,
    signed.map((h) => `${h}:${String(ctx.req.headers[h] ?? "").trim().replace(/\s+/g, " ")}`).join("\n") + "\n",
    signed.join(";"),
    payloadHash,
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest).digest("hex")].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
  return { canonicalRequest, stringToSign, expected: hmac(key, stringToSign).toString("hex") };
}

async function verifyRequest(ctx, next) {
  const auth = ctx.get("authorization");
  if (!auth && parseUrl(ctx).query.has("X-Amz-Signature")) return verifyPresigned(ctx, next);
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!match) throw s3error("AccessDenied", "Requests must carry an AWS4-HMAC-SHA256 Authorization header");
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match;
  const secret = SECRETS[accessKeyId];
  if (!secret) throw s3error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
  const amzDate = ctx.get("x-amz-date");
  const time = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"));
  if (!(Math.abs(Date.now() - time) < 15 * 60_000) || !amzDate.startsWith(date)) {
    throw s3error("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.");
  }
  const signed = signedHeaders.split(";");
  const unsigned = Object.keys(ctx.req.headers).filter((h) => h.startsWith("x-amz-") && !signed.includes(h));
  if (!signed.includes("host") || unsigned.length > 0) {
    throw s3error("AccessDenied", `There were headers present in the request which were not signed: ${unsigned.join(", ")}`);
  }
  const payloadHash = ctx.get("x-amz-content-sha256");
  if (!/^(UNSIGNED-PAYLOAD|[0-9a-f]{64})$/.test(payloadHash)) {
    throw s3error("InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  }
  const { canonicalRequest, stringToSign, expected } = signatureOf(ctx, {
    secret, date, region, service, amzDate, signed, payloadHash, dropQuery: null,
  });
  if (expected !== signature) {
    // AWS echoes these in the error body; the driver must not let them into its error messages.
    throw s3error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.", {
      AWSAccessKeyId: accessKeyId,
      StringToSign: stringToSign,
      SignatureProvided: signature,
      CanonicalRequest: canonicalRequest,
    });
  }
  if (ctx.method === "PUT" || ctx.method === "POST") await verifyBody(ctx, payloadHash);
  return next();
}

// Presigned URLs (SigV4 query signing, https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html):
// s3rver checks X-Amz-Expires itself (AccessDenied "Request has expired") but not the signature; this checks it.
async function verifyPresigned(ctx, next) {
  const { query } = parseUrl(ctx);
  const credential = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(query.get("X-Amz-Credential") ?? "");
  if (query.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256" || !credential || !query.get("X-Amz-SignedHeaders")) {
    throw s3error("AuthorizationQueryParametersError", "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
  }
  const [, accessKeyId, date, region, service] = credential;
  const secret = SECRETS[accessKeyId];
  if (!secret) throw s3error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
  const signed = query.get("X-Amz-SignedHeaders").split(";");
  const { expected } = signatureOf(ctx, {
    secret, date, region, service, amzDate: query.get("X-Amz-Date"), signed, payloadHash: "UNSIGNED-PAYLOAD", dropQuery: "X-Amz-Signature",
  });
  if (expected !== query.get("X-Amz-Signature")) {
    throw s3error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
  }
  return next();
}

async function verifyBody(ctx, payloadHash) {
  const { query, key } = parseUrl(ctx);
  if (ctx.method === "PUT" && key && ctx.req.headers["content-length"] === undefined) {
    throw s3error("MissingContentLength", "You must provide the Content-Length HTTP header.");
  }
  if (ctx.method === "POST" && query.has("delete") && !ctx.get("content-md5") && !ctx.get("x-amz-checksum-sha256")) {
    throw s3error("InvalidRequest", "Missing required header for this request: Content-MD5 OR x-amz-checksum-*");
  }
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  if (payloadHash !== "UNSIGNED-PAYLOAD" && sha256(body).digest("hex") !== payloadHash) {
    throw s3error("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", {}, 400);
  }
  const checksum = ctx.get("x-amz-checksum-sha256");
  if (checksum && sha256(body).digest("base64") !== checksum) {
    throw s3error("BadDigest", "The SHA256 you specified did not match the calculated checksum.");
  }
  // s3rver reads the body from ctx.req: hand it the verified bytes again.
  const replay = new PassThrough();
  replay.end(body);
  ctx.req = replay;
}

async function missingOperations(ctx, next) {
  const { bucket: name, key, query } = parseUrl(ctx);
  const uploads = join(directory, name ?? "", "._S3rver_uploads");
  const uploadId = query.get("uploadId");
  const uploadDir = uploadId ? join(uploads, uploadId.replace(/[^0-9a-f]/g, "")) : undefined;
  const exists = uploadDir ? await stat(uploadDir).then(() => true, () => false) : false;
  const noSuchUpload = () => s3error("NoSuchUpload", "The specified upload does not exist.", { UploadId: uploadId });
  const xml = (body) => {
    ctx.type = "application/xml";
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  };

  if (ctx.method === "GET" && !key && query.has("uploads")) {
    // ListMultipartUploads
    const ids = await readdir(uploads).catch(() => []);
    // Parts written after their upload was aborted would leave a directory without its key: list those too.
    const keyOf = (id) => readFile(join(uploads, id, "key"), "utf8").catch(() => "(orphaned parts)");
    const entries = await Promise.all(ids.map(async (id) => ({ id, key: await keyOf(id) })));
    const prefix = query.get("prefix") ?? "";
    const items = entries.filter((e) => e.key.startsWith(prefix)).map((e) => `<Upload><Key>${escapeXml(e.key)}</Key><UploadId>${e.id}</UploadId></Upload>`);
    return xml(`<ListMultipartUploadsResult><Bucket>${escapeXml(name)}</Bucket><IsTruncated>false</IsTruncated>${items.join("")}</ListMultipartUploadsResult>`);
  }
  if (!key || !uploadDir) return next();
  if (!exists) throw noSuchUpload();
  if (ctx.method === "DELETE") {
    // AbortMultipartUpload
    await rm(uploadDir, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  const parts = await listParts(uploadDir);
  if (ctx.method === "GET") {
    // ListParts
    const items = parts.map((p) => `<Part><PartNumber>${p.number}</PartNumber><ETag>"${p.md5}"</ETag><Size>${p.size}</Size></Part>`);
    return xml(`<ListPartsResult><Bucket>${escapeXml(name)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId><IsTruncated>false</IsTruncated>${items.join("")}</ListPartsResult>`);
  }
  if (ctx.method === "POST") {
    // CompleteMultipartUpload: every part but the last must be at least 5 MiB.
    const small = parts.slice(0, -1).find((p) => p.size < MIN_PART);
    if (small) throw s3error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.", { PartNumber: small.number, ProposedSize: small.size });
  }
  return next();
}

// One writer per object key at a time: a precondition is checked and its write committed with no other write between.
const keyLocks = new Map();

async function conditionalWrites(ctx, next) {
  const { bucket: name, key, query } = parseUrl(ctx);
  const put = ctx.method === "PUT" && !query.has("uploadId") && !ctx.get("x-amz-copy-source");
  const complete = ctx.method === "POST" && query.has("uploadId");
  const remove = ctx.method === "DELETE" && !query.has("uploadId");
  if (!key || !(put || complete || remove)) return next();
  const lockKey = `${name}/${key}`;
  const previous = keyLocks.get(lockKey) ?? Promise.resolve();
  let release;
  const tail = previous.then(() => new Promise((resolve) => (release = resolve)));
  keyLocks.set(lockKey, tail);
  await previous;
  try {
    const ifMatch = ctx.get("if-match");
    const ifNoneMatch = ctx.get("if-none-match");
    if (!remove && (ifMatch || ifNoneMatch)) {
      const current = await server.store.getMetadata(name, key).catch((error) => {
        if (error.code === "ENOENT") return null;
        throw error;
      });
      const unquote = (etag) => String(etag).replace(/"/g, "");
      if (ifNoneMatch && ifNoneMatch !== "*") throw s3error("NotImplemented", "If-None-Match accepts only '*' on writes", { Header: "If-None-Match" }, 501);
      if (ifNoneMatch && current) throw preconditionFailed("If-None-Match");
      if (ifMatch && !current) throw s3error("NoSuchKey", "The specified key does not exist.", { Key: key }, 404);
      if (ifMatch && unquote(ifMatch) !== unquote(current.etag)) throw preconditionFailed("If-Match");
    }
    await next();
  } finally {
    release();
    if (keyLocks.get(lockKey) === tail) keyLocks.delete(lockKey);
  }
}

function preconditionFailed(condition) {
  return s3error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: condition }, 412);
}

async function listParts(uploadDir) {
  const names = (await readdir(uploadDir)).filter((n) => /^\d+$/.test(n));
  const parts = await Promise.all(names.map(async (n) => ({
    number: Number(n),
    size: (await stat(join(uploadDir, n))).size,
    md5: await readFile(join(uploadDir, `${n}.md5`), "utf8").catch(() => ""),
  })));
  return parts.sort((a, b) => a.number - b.number);
}

let temporaries = 0;
async function writeAtomically(path, data) {
  const temporary = `${path}.${process.pid}.${++temporaries}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

async function writeFully(content, path) {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${++temporaries}.tmp`;
  const hash = createHash("md5");
  let size = 0;
  const counter = new Transform({
    transform(chunk, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(content, counter, createWriteStream(temporary));
  await rename(temporary, path);
  return { size, md5: hash.digest("hex") };
}

function escapeXml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]);
}
