import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Samples this process's RSS every `everyMs` (10–20 ms) until stopped; reports peak − start in bytes. */
export function rssSampler(everyMs = 10): { stop(): { start: number; peak: number; growth: number } } {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    const now = process.memoryUsage.rss();
    if (now > peak) peak = now;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return { start, peak, growth: peak - start };
    },
  };
}

/** What one transfer measured in a fresh child process. */
export interface ChildMeasurement {
  ms: number;
  bytes: number;
  rssStart: number;
  rssPeak: number;
  rssGrowth: number;
  /** CPU time of the child during the transfer (user + system), ms. */
  cpuMs: number;
}

/** The transfer a child runs (see _rss-child.ts). */
export type ChildJob = (
  | { kind: "copy-fs"; source: string; target: string }
  | { kind: "put-s3"; source: string; s3: ChildS3; key: string }
  | { kind: "multipart-s3"; source: string; s3: ChildS3; key: string; partSize: number; inFlight: number }
  | { kind: "queued"; local: string; state: string; key: string; remote: ChildRemote }
) & {
  /**
   * The clock stops only when this file of the stand-in has the full size. Plain s3rver answers PutObject before its
   * file is written (its store resolves on the md5 Transform's `finish`); test/support/s3rver-child.mjs now writes
   * fully before answering, and this check makes sure no side is ever credited with unfinished disk writes.
   */
  settle?: { path: string; size: number };
};

export type ChildRemote = { driver: "fs"; base: string } | { driver: "s3" | "unstorage-s3"; s3: ChildS3 };

export interface ChildS3 {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Our driver's tuning (unstorage's driver ignores them). */
  partSize?: number;
  partConcurrency?: number;
}

const CHILD = fileURLToPath(new URL("./_rss-child.ts", import.meta.url));

/**
 * Run one transfer in a fresh Node process (`node --expose-gc --import jiti/register bench/_rss-child.ts`), so that
 * one measurement's garbage and heap growth never pollute the next, and the S3 stand-in is never in the same process.
 */
export async function measureInChild(job: ChildJob): Promise<ChildMeasurement> {
  const child = spawn(process.execPath, ["--expose-gc", "--import", "jiti/register", CHILD, JSON.stringify(job)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (out += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (err += text));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const line = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || !line.startsWith("{")) {
    throw new Error(`bench/_rss-child.ts (${job.kind}) failed with code ${code}:\n${err || out}`);
  }
  return JSON.parse(line) as ChildMeasurement;
}
