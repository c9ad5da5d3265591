import { join } from "node:path";
import { createStorage, type Storage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import fsDriver from "../src/drivers/fs/index.ts";
import { createQueuedStorage, memoryFlags, memoryQueue } from "../src/index.ts";
import { countedFlags } from "./_counting.ts";
import { formatNumber, formatSize, KiB, latency, measureLatencies, MiB } from "./_stats.ts";
import type { BenchOptions, BenchResult, Row } from "./_types.ts";

const GOALS: Record<number, number> = { [KiB]: 1.5, [MiB]: 1.1 };

/**
 * 1. Write overhead: `setItem` of 1 KiB and 1 MiB values through queued-storage (fs local, in-process queue and
 * state) against the bare fs driver, both behind unstorage's `createStorage`. Transfers are queued on every write
 * but held back (memoryQueue `delay`), so that the background copy does not share the disk with the measured
 * writes: this is the cost of the write path itself (intent, local write, enqueue). Benchmark 2 measures writes
 * with transfers running.
 */
export async function run(opts: BenchOptions): Promise<BenchResult> {
  const started = performance.now();
  // Many short interleaved rounds: fsync latency drifts over seconds, and both sides should see the same drift.
  const rounds = opts.full ? 400 : 100;
  const iterations = 10;
  const keys = 64;
  const rows: Row[] = [];
  for (const size of [KiB, MiB]) {
    const value = "x".repeat(size - 1) + "\n";
    const dir = join(opts.tmp, String(size));
    const bare: Storage = createStorage({ driver: fsDriver({ base: join(dir, "bare") }) });
    const counted = countedFlags(memoryFlags());
    const queue = memoryQueue({ delay: 24 * 3600_000 });
    const queued = createQueuedStorage({
      local: fsDriver({ base: join(dir, "local") }),
      remote: fsDriver({ base: join(dir, "remote") }),
      flags: counted.flags,
      queue,
    });
    let i = 0;
    let queuedWrites = 0;
    opts.log(`1: ${formatSize(size)} setItem, ${rounds} interleaved rounds × ${iterations} writes per side`);
    const samples = await measureLatencies(
      [
        { name: "bare", fn: () => bare.setItem(`k${i++ % keys}`, value) },
        { name: "queued", fn: () => (queuedWrites++, queued.setItem(`k${i++ % keys}`, value)) },
      ],
      { rounds, iterations },
    );
    const jobs = queue.size();
    await queued.dispose();
    await bare.dispose();
    const base = latency("bare fs driver", samples.get("bare")!);
    const cand = latency("queued-storage", samples.get("queued")!);
    const ratio = cand.median / base.median;
    rows.push({
      bench: 1,
      name: `setItem ${formatSize(size)}`,
      baseline: base,
      candidate: cand,
      ratio,
      ratioLabel: "latency, candidate ÷ baseline",
      goal: `≤ ${GOALS[size]!.toFixed(2)}×`,
      met: ratio <= GOALS[size]!,
      extra: {
        "p95 ratio": formatNumber(cand.p95 / base.p95),
        "state-store calls per write": formatNumber(counted.total() / queuedWrites),
        "transfers queued (held back)": jobs.waiting,
        "added CPU time per write, memory drivers": `${formatNumber(await cpuOverheadMicros(size))} µs`,
      },
    });
  }
  return {
    id: 1,
    title: "Write overhead",
    params: { "interleaved rounds": rounds, "writes per side per round": iterations, keys, mode: opts.full ? "full" : "quick" },
    rows,
    notes: [
      "Both sides fsync every write (the fs driver's atomic temp file + fsync + rename); the queue holds its jobs back.",
    ],
    seconds: (performance.now() - started) / 1000,
  };
}

/** What the library adds per write without any disk: median setItem over in-memory drivers, queued − bare, in µs. */
async function cpuOverheadMicros(size: number): Promise<number> {
  const value = "x".repeat(size);
  const bare = createStorage({ driver: memoryDriver() });
  const queued = createQueuedStorage({ local: memoryDriver(), remote: memoryDriver(), queue: memoryQueue({ delay: 864e5 }) });
  let i = 0;
  const samples = await measureLatencies(
    [
      { name: "bare", fn: () => bare.setItem(`k${i++ % 64}`, value) },
      { name: "queued", fn: () => queued.setItem(`k${i++ % 64}`, value) },
    ],
    { rounds: 20, iterations: 500 },
  );
  await queued.dispose();
  return (latency("", samples.get("queued")!).median - latency("", samples.get("bare")!).median) * 1000;
}
