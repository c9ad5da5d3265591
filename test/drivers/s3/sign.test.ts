// Our SigV4 signer against aws4fetch's for the same inputs and clock, with node:crypto and with Web Crypto: every
// header it adds must be identical. (s3rver also verifies every signature the driver sends in the other S3 tests.)
import { AwsV4Signer } from "aws4fetch";
import { afterEach, describe, expect, it } from "vitest";
import { _useWebCrypto } from "../../../src/drivers/s3/_crypto.ts";
import { createSigner } from "../../../src/drivers/s3/_sign.ts";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "eu-west-1" };
const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/** Requests shaped as the driver sends them, and the awkward corners of SigV4 canonicalisation. */
const CASES: Array<{ method: string; url: string; headers: Record<string, string> }> = [
  { method: "PUT", url: "http://127.0.0.1:4568/bucket/docs/a.txt", headers: { "content-type": "text/plain", "x-amz-content-sha256": hash } },
  { method: "GET", url: "https://s3.eu-west-1.amazonaws.com/bucket/%C3%A9t%C3%A9/caf%C3%A9%20au%20lait%2B%25.bin", headers: {} },
  { method: "HEAD", url: "https://bucket.s3.amazonaws.com/a%21%27%28%29%2A~._-/b", headers: { "If-None-Match": '"etag"' } },
  { method: "GET", url: "http://localhost:9000/b?list-type=2&prefix=a%2Fb%20c&continuation-token=1%2B2%3D%3D", headers: { Range: "bytes=0-9" } },
  { method: "POST", url: "http://localhost:9000/b/key?uploads=", headers: { "x-amz-meta-name": "  two   spaces  ", "cache-control": "max-age=1" } },
  { method: "PUT", url: "http://localhost:9000/b/key?uploadId=abc%2Fdef&partNumber=10", headers: { "Content-Length": "5", "x-amz-content-sha256": hash } },
  { method: "POST", url: "http://localhost:9000/b?delete=", headers: { "x-amz-checksum-sha256": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=" } },
  { method: "DELETE", url: "http://localhost:9000/b/key?uploadId=x&uploadId=y", headers: {} },
];

afterEach(() => {
  _useWebCrypto(false);
});

describe("drivers: s3 — SigV4 signer", () => {
  for (const web of [false, true]) {
    it(`matches aws4fetch for every case, with and without a session token (${web ? "Web Crypto" : "node:crypto"})`, async () => {
      expect(_useWebCrypto(web)).toBe(true); // node:crypto exists here, so both paths are really taken
      for (const sessionToken of [undefined, "FQoGZXIvYXdzEJr//////////token"]) {
        const ours = createSigner({ ...credentials, sessionToken });
        for (const [i, { method, url, headers }] of CASES.entries()) {
          const now = new Date(Date.UTC(2026, 10, 27, 21, i, 5));
          const signed = await ours(method, url, headers, now);
          const reference = await new AwsV4Signer({
            ...credentials, sessionToken, service: "s3", method, url, headers, datetime: now.toISOString().replace(/[:-]|\.\d{3}/g, ""),
          }).sign();
          const expected = Object.fromEntries(reference.headers);
          expect(signed, `${method} ${url}`).toEqual(expected);
        }
      }
    });
  }

  it("derives the signing key again when the day changes", async () => {
    const ours = createSigner(credentials);
    for (const day of [27, 28]) {
      const now = new Date(Date.UTC(2026, 10, day, 12));
      const signed = await ours("GET", "http://localhost:9000/b/k", {}, now);
      const reference = await new AwsV4Signer({ ...credentials, service: "s3", method: "GET", url: "http://localhost:9000/b/k", datetime: now.toISOString().replace(/[:-]|\.\d{3}/g, "") }).sign();
      expect(signed.authorization).toBe(reference.headers.get("authorization"));
    }
  });
});
