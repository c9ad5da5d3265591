// AWS Signature Version 4, the driver's one signer: its requests in the Authorization header, browser URLs in the
// query string, and the RFC 3986 encoding both use.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
//
// aws4fetch signs the same way and still signs presigned URLs (`presign` below); requests we sign ourselves because
// its signer takes three Web Crypto jobs per request (about 100 µs of CPU on Node, more than the rest of a 16 KiB
// upload's signing and hashing together), and builds a Request we never send. The output is checked against aws4fetch's for
// the same inputs (test/drivers/s3/sign.test.ts), and s3rver verifies every signature in the tests.
import type { AwsClient } from "aws4fetch";
import { hmacSha256, sha256, toHex } from "./_crypto.ts";

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
}

/** Signs a request: returns its headers plus `x-amz-date`, the session token and `authorization`. */
export type RequestSigner = (method: string, url: string, headers: Record<string, string>, now?: Date) => Promise<Record<string, string>>;

/** Headers S3 and aws4fetch leave out of the signature (proxies and clients may change them). */
const UNSIGNED = new Set(["authorization", "content-type", "content-length", "user-agent", "presigned-expires", "expect", "x-amzn-trace-id", "range", "connection"]);

/** A signer for one set of credentials; the derived signing key is cached per day. */
export function createSigner(credentials: SigningCredentials, service = "s3"): RequestSigner {
  let keyDate = "";
  let signingKey: Promise<Uint8Array> | undefined;
  const keyFor = (date: string): Promise<Uint8Array> => {
    if (date !== keyDate || !signingKey) {
      keyDate = date;
      signingKey = (async () => {
        const kDate = await hmacSha256(`AWS4${credentials.secretAccessKey}`, date);
        const kRegion = await hmacSha256(kDate, credentials.region);
        return hmacSha256(await hmacSha256(kRegion, service), "aws4_request");
      })();
    }
    return signingKey;
  };

  return async (method, url, headers, now = new Date()) => {
    const datetime = now.toISOString().replace(/[:-]|\.\d{3}/g, "");
    const date = datetime.slice(0, 8);
    const parsed = new URL(url);
    const out: Record<string, string> = {};
    // As `Headers` would hold them: names lower-cased, values without surrounding whitespace.
    for (const name in headers) out[name.toLowerCase()] = headers[name]!.trim();
    delete out.host; // the URL's host is signed, and fetch sends that one
    out["x-amz-content-sha256"] ??= "UNSIGNED-PAYLOAD";
    out["x-amz-date"] = datetime;
    if (credentials.sessionToken) out["x-amz-security-token"] = credentials.sessionToken;
    const signed = ["host", ...Object.keys(out).filter((name) => !UNSIGNED.has(name))].sort();
    const canonicalHeaders = signed.map((name) => `${name}:${name === "host" ? parsed.host : out[name]!.replace(/\s+/g, " ")}\n`).join("");
    const signedHeaders = signed.join(";");
    const canonical = [method, _canonicalPath(parsed.pathname), _canonicalQuery(parsed.searchParams), canonicalHeaders, signedHeaders, out["x-amz-content-sha256"]].join("\n");
    const scope = `${date}/${credentials.region}/${service}/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${datetime}\n${scope}\n${toHex(await sha256(canonical))}`;
    const signature = toHex(await hmacSha256(await keyFor(date), toSign));
    out.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return out;
  };
}

/** `encodeURIComponent` plus the five characters it leaves alone that SigV4 wants encoded. */
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `url` presigned for a GET (SigV4 query signing by aws4fetch; the payload is `UNSIGNED-PAYLOAD`, as S3 wants for
 * presigned requests): the query parameters already set on it (expiry, response overrides) are signed with it.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */
export async function presign(client: AwsClient, url: URL): Promise<string> {
  const signed = await client.sign(url.toString(), { method: "GET", aws: { signQuery: true } });
  return signed.url;
}

// --- internal ---

/** S3's canonical URI: each segment encoded once (RFC 3986), whatever encoding the URL carried. */
function _canonicalPath(pathname: string): string {
  return pathname.split("/").map((segment) => encodeRfc3986(_decode(segment))).join("/");
}

/** Query parameters sorted by name then value, each RFC 3986 encoded; S3 keeps the first of a repeated name. */
function _canonicalQuery(params: URLSearchParams): string {
  const seen = new Set<string>();
  const pairs: [string, string][] = [];
  for (const [name, value] of params) {
    if (!name || seen.has(name)) continue;
    seen.add(name);
    pairs.push([encodeRfc3986(name), encodeRfc3986(value)]);
  }
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

function _decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
