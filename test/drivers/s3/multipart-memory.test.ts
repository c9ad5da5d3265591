// Multipart memory in a fresh process, against the driver bundled the way it ships (one ESM file, aws4fetch
// external), never the test runner's module graph: what a user's process holds while it uploads. The source streams
// are pathological on purpose: 512-byte chunks (hundreds of thousands of reads), 24 MiB chunks (bigger than a part),
// and a byte stream read BYOB straight into the parts.
import { execFile } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3rver, type S3rverHandle } from "../../support/s3rver.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CHILD = fileURLToPath(new URL("./_multipart-memory-child.mjs", import.meta.url));
// Inside node_modules so that the bundle's `aws4fetch` import resolves as it does in a user's project.
const OUT = join(ROOT, "node_modules/.cache/queued-storage-test", `multipart-memory-${process.pid}`);
const MiB = 1024 * 1024;
const SIZE = 96 * MiB;
const PART_SIZE = 5 * MiB;
const PART_CONCURRENCY = 2;
/**
 * What an upload may hold beyond its parts. Measured on Node 20 (2 cores): 20–32 MiB, most of it outside the JS heap:
 * Node's Web Crypto copies each part it hashes (`crypto.subtle.digest`) and frees the copy only when the job object
 * is collected, and malloc keeps some of what was freed. Without the payload hash it is under 8 MiB.
 */
const CONSTANT = 40 * MiB;

let server: S3rverHandle;
let driverPath: string;
beforeAll(async () => {
  server = await startS3rver();
  await mkdir(OUT, { recursive: true });
  driverPath = join(OUT, "s3.mjs");
  await build({
    entryPoints: [join(ROOT, "src/drivers/s3/index.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    external: ["aws4fetch"],
    outfile: driverPath,
    logLevel: "warning",
  });
}, 60_000);
afterAll(async () => {
  await Promise.all([server?.stop(), rm(OUT, { recursive: true, force: true })]);
});

interface Measured {
  growth: number;
  stored: number;
  ms: number;
}

function upload(chunk: "tiny" | "huge" | "bytes"): Promise<Measured> {
  const s3 = { endpoint: server.endpoint, bucket: server.bucket, region: server.region, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
  const job = JSON.stringify({ s3, size: SIZE, chunk, partSize: PART_SIZE, partConcurrency: PART_CONCURRENCY });
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--expose-gc", CHILD, driverPath, job], { timeout: 240_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${CHILD} (${chunk}) failed: ${error.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split("\n").pop()!) as Measured);
    });
  });
}

describe("drivers: s3 — multipart memory is bounded by partSize × partConcurrency, whatever the source", () => {
  const parts = PART_SIZE * PART_CONCURRENCY;
  for (const [chunk, what, extra] of [
    ["tiny", "512-byte chunks", 0],
    ["bytes", "a byte stream read BYOB", 0],
    // The source's own chunks are the source's memory: one being copied into parts, one already made for the next read.
    ["huge", "24 MiB chunks", 2 * 24 * MiB],
  ] as const) {
    it(`${what}: 96 MiB in ${PART_SIZE / MiB} MiB × ${PART_CONCURRENCY} parts`, { timeout: 250_000 }, async () => {
      const measured = await upload(chunk);
      console.log(`[multipart memory] ${what}: peak RSS growth ${(measured.growth / MiB).toFixed(1)} MiB ` +
        `(parts ${parts / MiB} MiB${extra ? ` + source chunks ${extra / MiB} MiB` : ""}), ${measured.ms.toFixed(0)} ms`);
      expect(measured.stored).toBe(SIZE);
      expect(measured.growth).toBeLessThanOrEqual(parts + extra + CONSTANT);
    });
  }
});
