import { runChild } from "./_harness.ts";

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

/** Run one transfer in a fresh Node process (bench/_rss-child.ts; see runChild in _harness.ts). */
export function measureInChild(job: ChildJob): Promise<ChildMeasurement> {
  return runChild<ChildMeasurement>("./_rss-child.ts", job, job.kind);
}
