// The S3 driver's body hashes: the main-thread path (small bodies, node:crypto) and the Web Crypto path (large ones)
// must give the same digest, since S3 refuses a body whose signed x-amz-content-sha256 does not match.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256, toHex } from "../../../src/drivers/s3/_crypto.ts";

const expected = (data: Uint8Array | string): string => createHash("sha256").update(data).digest("hex");

describe("drivers: s3 — body hashes", () => {
  it("agree with SHA-256 on both sides of the main-thread limit, for bytes, views and UTF-8 strings", async () => {
    for (const size of [0, 1, 16 * 1024, 256 * 1024, 256 * 1024 + 1, 3 * 1024 * 1024]) {
      const bytes = new Uint8Array(size).map((_, i) => (i * 131) & 0xff);
      expect(toHex(await sha256(bytes)), `${size} bytes`).toBe(expected(bytes));
      const view = bytes.subarray(Math.min(7, size));
      expect(toHex(await sha256(view)), `view of ${size} bytes`).toBe(expected(view));
    }
    expect(toHex(await sha256("héllo <Delete/>"))).toBe(expected("héllo <Delete/>"));
  });
});
