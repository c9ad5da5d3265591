import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import s3Driver from "../src/drivers/s3/index.ts";
import { cpuSecondsOf, flushDisks, makeFile, patternChunk, s3Options, startS3rver } from "./_fixtures.ts";
import { measurePeer, type PeerJob, type PeerMeasurement, type PeerVariant } from "./_peers.ts";
import { formatNumber, formatSize, KiB, MiB, percentile, rate } from "./_stats.ts";
import type { BenchOptions, BenchResult, Measure, Row } from "./_types.ts";

type Case = PeerJob["case"];

const LABELS: Record<PeerVariant, string> = {
  ours: "queued-storage s3 driver (fs stream → setItemRaw)",
  "ours-node": "queued-storage s3 driver + createNodeFetch()",
  queued: "queued-storage transfer (memoryQueue)",
  "sdk-upload": "@aws-sdk/lib-storage Upload",
  "sdk-put": "@aws-sdk/client-s3 PutObject",
  unstorage: "unstorage/drivers/s3",
  aws4fetch: "aws4fetch client.fetch",
  "node-http": "node:http signed PUT",
};
const VARIANTS: Record<Case, PeerVariant[]> = {
  small: ["ours", "ours-node", "queued", "sdk-put", "sdk-upload", "unstorage", "aws4fetch", "node-http"],
  upload: ["ours", "sdk-upload", "sdk-put", "unstorage", "aws4fetch", "node-http"],
  download: ["ours", "sdk-put", "unstorage", "aws4fetch", "node-http"],
};
/** Quick mode keeps every small-file peer and, for the big value, the baselines of the goals plus node:http. */
const QUICK_VARIANTS: Record<Case, PeerVariant[]> = {
  small: VARIANTS.small,
  upload: ["ours", "sdk-upload", "node-http"],
  download: ["ours", "sdk-put", "node-http"],
};
const FETCH_BASED: PeerVariant[] = ["unstorage", "aws4fetch"];
const OURS: PeerVariant[] = ["ours", "queued"];
const PART_SIZE = 8 * MiB;
const PART_CONCURRENCY = 4;

interface Sample extends PeerMeasurement {
  serverCpu: number | null;
}

/**
 * 7. Against the peers a user would pick instead: the same local files uploaded to (and one object downloaded from)
 * the S3 stand-in by the AWS SDK (Upload, PutObject/GetObject), unstorage's s3 driver, aws4fetch and node:http, and
 * by our driver. Every run is a fresh child process; the variants take turns round by round.
 */
export async function run(opts: BenchOptions): Promise<BenchResult> {
  const started = performance.now();
  const files = opts.full ? 2000 : 500;
  const size = opts.full ? 256 * MiB : 32 * MiB;
  const variants = opts.full ? VARIANTS : QUICK_VARIANTS;
  const rounds = opts.full ? 3 : 1;
  const concurrency = 16;
  const dir = join(opts.tmp, "7-local");
  opts.log(`7: writing ${files} × 16 KiB and one ${formatSize(size)} file`);
  const paths = Array.from({ length: files }, (_, i) => join(dir, "f", `${String(i).padStart(5, "0")}.bin`));
  await mkdir(join(dir, "f"), { recursive: true });
  for (let i = 0; i < paths.length; i += 64) {
    await Promise.all(paths.slice(i, i + 64).map((path, j) => writeFile(path, patternChunk(16 * KiB, i + j))));
  }
  const big = join(dir, "big", "big.bin");
  await makeFile(big, size);
  flushDisks();

  const server = await startS3rver({ bucket: "bench" });
  const s3 = { ...s3Options(server), region: server.region };
  const bucket = s3Driver(s3);
  await bucket.setItemRaw!("down/big.bin", (await import("node:fs")).readFileSync(big), {});
  await bucket.setItemRaw!("down/warm.bin", patternChunk(16 * KiB), {});
  const objects = (prefix: string): string => join(server.directory, s3.bucket, prefix);

  const samples = new Map<string, Sample[]>();
  const job = (variant: PeerVariant, kind: Case, round: number): PeerJob => ({
    variant,
    case: kind,
    s3,
    dir,
    files: kind === "small" ? paths : kind === "upload" ? [big] : [],
    prefix: `r${round}-${kind}-${variant}`,
    concurrency,
    partSize: PART_SIZE,
    partConcurrency: PART_CONCURRENCY,
    key: "down/big.bin",
    warmKey: "down/warm.bin",
  });
  try {
    for (let round = 0; round < rounds; round++) {
      for (const kind of ["small", "upload", "download"] as Case[]) {
        // BENCH7_ONLY=small:ours,small:unstorage runs only those (to profile them); the rows need every variant.
        const only = process.env.BENCH7_ONLY?.split(",");
        const names = variants[kind].filter((v) => !only || only.includes(`${kind}:${v}`));
        if (names.length === 0) continue;
        const order = names.map((_, i) => names[(i + round) % names.length]!);
        for (const variant of order) {
          const spec = job(variant, kind, round);
          flushDisks();
          const cpuBefore = await cpuSecondsOf(server.pid);
          const measured = await measurePeer(spec);
          const cpuAfter = await cpuSecondsOf(server.pid);
          await verify(spec, measured);
          const list = samples.get(`${kind}:${variant}`) ?? [];
          list.push({ ...measured, serverCpu: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore });
          samples.set(`${kind}:${variant}`, list);
          opts.log(`7: round ${round + 1}/${rounds} ${kind} ${variant}: ${formatNumber(rateOf(kind, measured))} ${unitOf(kind)}, ` +
            `CPU ${formatNumber(perUnit(kind, measured.cpuMs, measured))} ${cpuUnit(kind)}, RSS +${formatSize(measured.rssGrowth)}`);
          // Untimed clean-up straight on the stand-in's disk (s3rver keeps no index), so no run pays for another's objects.
          await rm(objects(spec.prefix), { recursive: true, force: true });
          await rm(objects(`${spec.prefix}-warm`), { recursive: true, force: true });
        }
      }
    }
  } finally {
    await server.stop();
  }

  async function verify(spec: PeerJob, measured: PeerMeasurement): Promise<void> {
    let found: number;
    let expected: number;
    if (spec.case === "small") {
      const base = join(objects(spec.prefix), "f");
      found = (await readdir(base).catch(() => [])).filter((name) => name.endsWith("._S3rver_object")).length;
      expected = files;
    } else if (spec.case === "upload") {
      found = ((await bucket.getMeta!(`${spec.prefix}/big/big.bin`, {}))?.size as number | undefined) ?? -1;
      expected = size;
    } else {
      found = measured.amount;
      expected = size;
    }
    if (found !== expected) throw new Error(`7: ${spec.variant} (${spec.case}) moved ${found}, expected ${expected}`);
  }

  const measureOf = (kind: Case, variant: PeerVariant): Measure =>
    rate(LABELS[variant], unitOf(kind), samples.get(`${kind}:${variant}`)!.map((s) => rateOf(kind, s)));
  const bestOf = (kind: Case, among: PeerVariant[]): PeerVariant =>
    among.reduce((best, v) => (measureOf(kind, v).median > measureOf(kind, best).median ? v : best));
  const cpuPer = (kind: Case, variant: PeerVariant, of: "client" | "server"): number => {
    const list = samples.get(`${kind}:${variant}`)!;
    return percentile(list.map((s) => perUnit(kind, of === "client" ? s.cpuMs : (s.serverCpu ?? Number.NaN) * 1000, s)), 50);
  };
  const peakRss = (kind: Case, variant: PeerVariant): number => Math.max(...samples.get(`${kind}:${variant}`)!.map((s) => s.rssGrowth));
  const row = (kind: Case, name: string, candidate: PeerVariant, baseline: PeerVariant, goal: string, met: (ratio: number) => boolean | null): Row => {
    const base = measureOf(kind, baseline);
    const cand = measureOf(kind, candidate);
    const ratio = cand.median / base.median;
    return {
      bench: 7,
      name,
      baseline: base,
      candidate: cand,
      ratio,
      ratioLabel: "throughput, candidate ÷ baseline",
      goal,
      met: met(ratio),
      extra: {
        [`client CPU (candidate)`]: `${formatNumber(cpuPer(kind, candidate, "client"))} ${cpuUnit(kind)}`,
        [`client CPU (baseline)`]: `${formatNumber(cpuPer(kind, baseline, "client"))} ${cpuUnit(kind)}`,
        [`stand-in CPU (candidate)`]: `${formatNumber(cpuPer(kind, candidate, "server"))} ${cpuUnit(kind)}`,
        [`peak RSS growth (candidate)`]: formatSize(peakRss(kind, candidate)),
        [`peak RSS growth (baseline)`]: formatSize(peakRss(kind, baseline)),
      },
    };
  };
  const small = `${files} × 16 KiB, concurrency ${concurrency}`;
  const fetchPeer = bestOf("small", FETCH_BASED);
  const smallCpuOk = cpuPer("small", "ours", "client") <= 1.3;
  const uploadRss = peakRss("upload", "ours");
  const downloadRss = peakRss("download", "ours");
  const rows: Row[] = [
    row("small", `${small}: vs best fetch-based peer`, "ours", fetchPeer, "≥ 1.00× and ≤ 1.3 ms CPU/file", (r) => r >= 1 && smallCpuOk),
    row("small", `${small}: vs raw node:http`, "ours", "node-http", "≥ 0.90×", (r) => r >= 0.9),
    row("small", `${small}: whole transfer vs best fetch-based peer`, "queued", fetchPeer, "report", () => null),
    row("upload", `${formatSize(size)} upload`, "ours", "sdk-upload", "≥ 1.10× and RSS ≤ 48 MiB", (r) => r >= 1.1 && uploadRss <= 48 * MiB),
    row("download", `${formatSize(size)} download`, "ours", "sdk-put", "≥ 1.00× and RSS ≤ 32 MiB", (r) => r >= 1 && downloadRss <= 32 * MiB),
  ];
  rows[4]!.baseline.label = "@aws-sdk/client-s3 GetObject";
  const notes: string[] = [];
  for (const kind of ["small", "upload", "download"] as Case[]) {
    const peers = variants[kind].filter((v) => !OURS.includes(v));
    const best = measureOf(kind, bestOf(kind, peers)).median;
    for (const variant of variants[kind]) {
      const m = measureOf(kind, variant);
      const label = kind === "download" && variant === "sdk-put" ? "@aws-sdk/client-s3 GetObject" : LABELS[variant];
      notes.push(`${kind} | ${label} | ${formatNumber(m.median)} ${m.unit} | ${formatNumber(m.median / best)}× best peer | ` +
        `client ${formatNumber(cpuPer(kind, variant, "client"))} ${cpuUnit(kind)} | stand-in ${formatNumber(cpuPer(kind, variant, "server"))} ${cpuUnit(kind)} | ` +
        `peak RSS +${formatSize(peakRss(kind, variant))}`);
    }
  }
  notes.push(`Uploads of ${formatSize(size)}: Upload and our driver use ${PART_SIZE / MiB} MiB parts, ${PART_CONCURRENCY} at a time; ` +
    "PutObject, aws4fetch and node:http send one streamed PUT; unstorage reads the file whole first.");
  return {
    id: 7,
    title: "Against the peers",
    params: { files: `${files} × 16 KiB`, size: formatSize(size), rounds, mode: opts.full ? "full" : "quick (use --full for 2,000 files, 256 MiB, 3 rounds, every peer)" },
    rows,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}

// --- internal ---

function rateOf(kind: Case, m: PeerMeasurement): number {
  return kind === "small" ? m.amount / (m.ms / 1000) : m.amount / MiB / (m.ms / 1000);
}

function unitOf(kind: Case): string {
  return kind === "small" ? "files/s" : "MiB/s";
}

function perUnit(kind: Case, cpuMs: number, m: PeerMeasurement): number {
  return kind === "small" ? cpuMs / m.amount : cpuMs / (m.amount / MiB);
}

function cpuUnit(kind: Case): string {
  return kind === "small" ? "ms/file" : "ms/MiB";
}
