import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import s3Driver from "../src/drivers/s3/index.ts";
import { cpuSecondsOf, flushDisks, makeFile, patternChunk, s3Options, startS3rver } from "./_fixtures.ts";
import { measurePeer, type PeerJob, type PeerMeasurement, type PeerVariant } from "./_peers.ts";
import { cpuUnit, perUnit, peerRows, rateOf, unitOf, type Case, type Sample } from "./_peers-rows.ts";
import { formatNumber, formatSize, KiB, MiB } from "./_stats.ts";
import type { BenchOptions, BenchResult } from "./_types.ts";

const VARIANTS: Record<Case, PeerVariant[]> = {
  small: ["ours", "ours-node", "queued", "sdk-put", "sdk-upload", "unstorage", "aws4fetch", "node-http"],
  upload: ["ours", "ours-node", "sdk-upload", "sdk-put", "unstorage", "aws4fetch", "node-http"],
  download: ["ours", "ours-node", "sdk-put", "unstorage", "aws4fetch", "node-http"],
};
/** Quick mode keeps every small-file peer and, for the big value, the baselines of the goals plus node:http. */
const QUICK_VARIANTS: Record<Case, PeerVariant[]> = {
  small: VARIANTS.small,
  upload: ["ours", "ours-node", "sdk-upload", "node-http"],
  download: ["ours", "ours-node", "sdk-put", "node-http"],
};
/** Rounds in full mode: small files are quick and the noisiest, so they get more. */
const FULL_ROUNDS: Record<Case, number> = { small: 5, upload: 3, download: 3 };
const PART_SIZE = 8 * MiB;
const PART_CONCURRENCY = 4;

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
  const rounds = opts.full ? Math.max(...Object.values(FULL_ROUNDS)) : 1;
  const roundsOf = (kind: Case): number => (opts.full ? FULL_ROUNDS[kind] : 1);
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
  // The stand-in's code warm before the first round, so that the first variant does not pay for its JIT.
  for (let i = 0; i < 2000; i += 16) {
    await Promise.all(Array.from({ length: 16 }, (_, j) => bucket.setItemRaw!(`warm/${i + j}.bin`, patternChunk(16 * KiB, j), {})));
  }
  const objects = (prefix: string): string => join(server.directory, s3.bucket, prefix);
  await rm(objects("warm"), { recursive: true, force: true });

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
        if (round >= roundsOf(kind)) continue;
        // BENCH7_ONLY=small:ours,small:unstorage runs only those (to profile them); the rows need every variant.
        const only = process.env.BENCH7_ONLY?.split(",");
        const names = variants[kind].filter((v) => !only || only.includes(`${kind}:${v}`));
        if (names.length === 0) continue;
        const order = names.map((_, i) => names[(i + round) % names.length]!);
        for (const variant of order) {
          const spec = job(variant, kind, round);
          flushDisks();
          await server.collect(); // no run pays for the stand-in's garbage from the run before it
          // The stand-in's CPU from the moment the child's clock starts (after its loading and warm-up).
          let timingFrom = cpuSecondsOf(server.pid);
          const measured = await measurePeer(spec, () => void (timingFrom = cpuSecondsOf(server.pid)));
          const cpuAfter = await cpuSecondsOf(server.pid);
          const cpuBefore = await timingFrom;
          await verify(spec, measured);
          const list = samples.get(`${kind}:${variant}`) ?? [];
          list.push({ ...measured, serverCpu: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore });
          samples.set(`${kind}:${variant}`, list);
          opts.log(`7: round ${round + 1}/${roundsOf(kind)} ${kind} ${variant}: ${formatNumber(rateOf(kind, measured))} ${unitOf(kind)}, ` +
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

  const { rows, notes } = peerRows({ samples, variants, small: `${files} × 16 KiB, concurrency ${concurrency}`, size });
  notes.push(`Uploads of ${formatSize(size)}: Upload and our driver use ${PART_SIZE / MiB} MiB parts, ${PART_CONCURRENCY} at a time; ` +
    "PutObject, aws4fetch and node:http send one streamed PUT; unstorage reads the file whole first.");
  return {
    id: 7,
    title: "Against the peers",
    params: { files: `${files} × 16 KiB`, size: formatSize(size), rounds, mode: opts.full ? "full" : "quick (use --full for 2,000 files, 256 MiB, 5 rounds of small files and 3 of the big ones, every peer)" },
    rows,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}
