import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildS3 } from "./_rss.ts";

/** The libraries compared by benchmark 7; `ours` is our S3 driver fed by our fs driver, `queued` the whole transfer. */
export type PeerVariant = "ours" | "ours-node" | "queued" | "sdk-upload" | "sdk-put" | "unstorage" | "aws4fetch" | "node-http";

export interface PeerJob {
  variant: PeerVariant;
  case: "small" | "upload" | "download";
  s3: ChildS3;
  /** Directory of the local files (fs driver base); `files` are absolute paths inside it. */
  dir: string;
  files: string[];
  /** Object key prefix of this run's uploads. */
  prefix: string;
  concurrency?: number;
  partSize: number;
  partConcurrency: number;
  /** download: the object to read, and a small one read first. */
  key?: string;
  warmKey?: string;
}

export interface PeerMeasurement {
  ms: number;
  /** Files moved (small) or bytes (upload, download). */
  amount: number;
  rssGrowth: number;
  cpuMs: number;
}

const CHILD = fileURLToPath(new URL("./_peers-child.ts", import.meta.url));
/** The line a child prints when its clock starts (after loading, warming up and a GC). */
export const TIMING = "timing\n";

/** Runs one variant in a fresh Node process (see _peers-child.ts); `onTiming` runs when its clock starts. */
export async function measurePeer(job: PeerJob, onTiming?: () => void): Promise<PeerMeasurement> {
  // BENCH_CHILD_FLAGS: extra Node flags for the children, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them.
  const flags = process.env.BENCH_CHILD_FLAGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, ["--expose-gc", ...flags, "--import", "jiti/register", CHILD, JSON.stringify(job)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    if (!out.includes(TIMING) && (out + text).includes(TIMING)) onTiming?.();
    out += text;
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => (err += text));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const line = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || !line.startsWith("{")) {
    throw new Error(`bench/_peers-child.ts (${job.variant}, ${job.case}) failed with code ${code}:\n${err || out}`);
  }
  return JSON.parse(line) as PeerMeasurement;
}
