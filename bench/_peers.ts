import { runChild } from "./_harness.ts";
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

/** The line a child prints when its clock starts (after loading, warming up and a GC). */
export const TIMING = "timing\n";

/** Runs one variant in a fresh Node process (see _peers-child.ts); `onTiming` runs when its clock starts. */
export function measurePeer(job: PeerJob, onTiming?: () => void): Promise<PeerMeasurement> {
  let timed = false;
  return runChild<PeerMeasurement>("./_peers-child.ts", job, `${job.variant}, ${job.case}`, (soFar) => {
    if (!timed && soFar.includes(TIMING)) (timed = true), onTiming?.();
  });
}
