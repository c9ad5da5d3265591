import { stat } from "node:fs/promises";
import { join } from "node:path";
import fsDriver from "../src/drivers/fs/index.ts";
import s3Driver from "../src/drivers/s3/index.ts";
import { storageFlags } from "../src/index.ts";
import { cpuSecondsOf, flushDisks, makeFile, removeDir, s3Options, startS3rver } from "./_fixtures.ts";
import { measureInChild, type ChildJob, type ChildMeasurement } from "./_rss.ts";
import { formatSize, mibPerSecond, MiB, rate } from "./_stats.ts";
import type { BenchOptions, BenchResult, Row } from "./_types.ts";

const RSS_LIMIT = 64 * MiB;
const GOAL = 0.9;

interface Sample extends ChildMeasurement {
  /** CPU seconds the S3 stand-in's process spent on this transfer. */
  serverCpu: number | null;
}

/**
 * 3. Transfer throughput and memory: one big file fs → fs and fs → S3 stand-in through queued-storage, against a raw
 * stream copy (fs) and one hand-written streaming PutObject (S3), and queued-storage over unstorage's own s3 driver.
 * Every transfer runs in a fresh child process; RSS is sampled there every 10 ms.
 */
export async function run(opts: BenchOptions): Promise<BenchResult> {
  const started = performance.now();
  const size = opts.full ? 1024 * MiB : 256 * MiB;
  const rounds = 3;
  const key = "big.bin";
  const dirs = { local: join(opts.tmp, "3-local"), remote: join(opts.tmp, "3-remote"), state: join(opts.tmp, "3-state") };
  const source = join(dirs.local, key);
  opts.log(`3: writing a ${formatSize(size)} source file`);
  await makeFile(source, size);
  // The record a write through queued-storage (delayed) leaves: the child's transfer(key) queues exactly that.
  await storageFlags(fsDriver({ base: dirs.state })).begin(key, { delayed: true });

  const server = await startS3rver({ bucket: "bench" });
  const { endpoint, bucket: name, region = "us-east-1", accessKeyId, secretAccessKey } = s3Options(server);
  const s3 = { endpoint, bucket: name, region, accessKeyId, secretAccessKey };
  const bucket = s3Driver(s3);
  const settle = (object: string): ChildJob["settle"] => ({ path: join(server.directory, name, `${object}._S3rver_object`), size });
  const jobs: Record<string, ChildJob> = {
    "copy-fs": { kind: "copy-fs", source, target: join(dirs.remote, "copy.bin") },
    "qs-fs": { kind: "queued", local: dirs.local, state: dirs.state, key, remote: { driver: "fs", base: dirs.remote } },
    "put-s3": { kind: "put-s3", source, s3, key: "baseline.bin", settle: settle("baseline.bin") },
    "multipart-s3": {
      kind: "multipart-s3",
      source,
      s3,
      key: "multipart.bin",
      partSize: 8 * MiB,
      inFlight: 4,
      settle: settle("multipart.bin"),
    },
    "qs-s3": { kind: "queued", local: dirs.local, state: dirs.state, key, remote: { driver: "s3", s3 }, settle: settle(key) },
    "qs-s3-pc2": {
      kind: "queued",
      local: dirs.local,
      state: dirs.state,
      key,
      remote: { driver: "s3", s3: { ...s3, partConcurrency: 2 } },
      settle: settle(key),
    },
    "qs-unstorage-s3": {
      kind: "queued",
      local: dirs.local,
      state: dirs.state,
      key,
      remote: { driver: "unstorage-s3", s3 },
      settle: settle(key),
    },
  };
  const samples = new Map<string, Sample[]>(Object.keys(jobs).map((name) => [name, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      const names = Object.keys(jobs);
      // Rotate the order, so that no side always runs first (or right after the heaviest one).
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      for (const name of order) {
        await removeDir(dirs.remote);
        await import("node:fs/promises").then((fs) => fs.mkdir(dirs.remote, { recursive: true }));
        flushDisks();
        const cpuBefore = await cpuSecondsOf(server.pid);
        const measured = await measureInChild(jobs[name]!);
        const cpuAfter = await cpuSecondsOf(server.pid);
        await verify(name, measured);
        samples.get(name)!.push({ ...measured, serverCpu: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore });
        opts.log(`3: round ${round + 1}/${rounds} ${name}: ${mibPerSecond(measured.bytes, measured.ms).toFixed(1)} MiB/s, ` +
          `RSS +${formatSize(measured.rssGrowth)}`);
      }
    }
  } finally {
    await server.stop();
  }

  async function verify(name: string, measured: ChildMeasurement): Promise<void> {
    const job = jobs[name]!;
    let stored: number | undefined;
    if (job.kind === "copy-fs") stored = (await stat(job.target)).size;
    else if (job.kind === "put-s3" || job.kind === "multipart-s3") stored = (await bucket.getMeta!(job.key, {}))?.size as number | undefined;
    else if (job.remote.driver === "fs") stored = (await stat(join(dirs.remote, key))).size;
    else stored = (await bucket.getMeta!(key, {}))?.size as number | undefined;
    if (stored !== size || measured.bytes !== size) throw new Error(`3: ${name} stored ${stored} bytes, expected ${size}`);
    if (job.kind === "put-s3" || job.kind === "multipart-s3") await bucket.removeItem!(job.key, {});
    else if (job.kind === "queued" && job.remote.driver !== "fs") await bucket.removeItem!(key, {});
  }

  const rowOf = (name: string, baseline: string, candidate: string, labels: [string, string], scored = true): Row => {
    const throughput = (n: string): number[] => samples.get(n)!.map((s) => mibPerSecond(s.bytes, s.ms));
    const base = rate(labels[0], "MiB/s", throughput(baseline));
    const cand = rate(labels[1], "MiB/s", throughput(candidate));
    const peak = (n: string): number => Math.max(...samples.get(n)!.map((s) => s.rssGrowth));
    const cpu = (n: string): string => {
      const values = samples.get(n)!.map((s) => s.serverCpu).filter((v): v is number => v !== null);
      return values.length ? (values.reduce((a, b) => a + b, 0) / values.length).toFixed(2) : "n/a";
    };
    const ratio = cand.median / base.median;
    const extra: Row["extra"] = {
      "peak RSS growth (candidate)": formatSize(peak(candidate)),
      "peak RSS growth (baseline)": formatSize(peak(baseline)),
      "client CPU s (candidate)": (samples.get(candidate)!.reduce((a, s) => a + s.cpuMs, 0) / rounds / 1000).toFixed(2),
    };
    if (name.includes("S3")) {
      extra["stand-in CPU s (candidate)"] = cpu(candidate);
      extra["stand-in CPU s (baseline)"] = cpu(baseline);
    }
    return {
      bench: 3,
      name,
      baseline: base,
      candidate: cand,
      ratio,
      ratioLabel: "throughput, candidate ÷ baseline",
      goal: scored ? `≥ ${GOAL.toFixed(2)}× and RSS < 64 MiB` : "report",
      met: scored ? ratio >= GOAL && peak(candidate) < RSS_LIMIT : null,
      extra,
    };
  };
  const label = formatSize(size);
  const rows = [
    rowOf(`${label} fs → fs`, "copy-fs", "qs-fs", ["stream copy + fsync", "queued-storage (fs driver)"]),
    rowOf(`${label} fs → S3 stand-in`, "put-s3", "qs-s3", ["one streaming PutObject", "queued-storage (our s3 driver)"]),
    rowOf(`${label} fs → S3 stand-in`, "put-s3", "qs-s3-pc2", ["one streaming PutObject", "queued-storage (our s3 driver, partConcurrency 2)"]),
    rowOf(`${label} fs → S3 stand-in (diagnostic)`, "multipart-s3", "qs-s3", ["hand-written multipart, same parts", "queued-storage (our s3 driver)"], false),
    rowOf(`${label} fs → S3 stand-in`, "put-s3", "qs-unstorage-s3", ["one streaming PutObject", "queued-storage + unstorage/drivers/s3"]),
  ];
  return {
    id: 3,
    title: "Transfer throughput and memory",
    params: { size: label, rounds, mode: opts.full ? "full" : "quick (use --full for 1 GiB)" },
    rows,
    notes: [
      "Each transfer runs in a fresh child process (RSS sampled every 10 ms there); s3rver runs in another child.",
      "Throughput p95 column = slowest-tail round (5th percentile of per-round MiB/s).",
    ],
    seconds: (performance.now() - started) / 1000,
  };
}
