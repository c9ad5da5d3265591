import { Bench } from "tinybench";
import type { Measure } from "./_types.ts";

/** Linear-interpolated percentile (0–100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const at = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** Latencies in ms: median and p95. */
export function latency(label: string, samples: readonly number[]): Measure {
  return { label, unit: "ms", median: percentile(samples, 50), p95: percentile(samples, 95), n: samples.length };
}

/** Rates (higher is better), one per round: median and the slow tail (5th percentile). */
export function rate(label: string, unit: string, perRound: readonly number[]): Measure {
  return { label, unit, median: percentile(perRound, 50), p95: percentile(perRound, 5), n: perRound.length };
}

/** `MiB/s` of `bytes` moved in `ms`. */
export function mibPerSecond(bytes: number, ms: number): number {
  return bytes / 1048576 / (ms / 1000);
}

export const MiB = 1048576;
export const KiB = 1024;

export function formatSize(bytes: number): string {
  if (bytes >= 1024 * MiB) return `${+(bytes / 1024 / MiB).toFixed(2)} GiB`;
  if (bytes >= MiB) return `${+(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= KiB) return `${+(bytes / KiB).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : abs >= 1 ? value.toFixed(2) : value.toFixed(3);
}

export interface LatencyTask {
  name: string;
  fn: () => Promise<unknown>;
  /** Runs untimed after each round of this task (e.g. drain the queue, so the next task starts clean). */
  afterRound?: () => Promise<unknown>;
}

/**
 * Per-operation latencies with tinybench, interleaved: `rounds` rounds of `iterations` calls per task, the task order
 * shuffled every round, after one warmup pass. Disk and CPU conditions drift over seconds (fsync latency, other
 * processes); short interleaved rounds make every side see the same drift, which long per-task blocks do not.
 * Returns every retained sample per task name.
 */
export async function measureLatencies(
  tasks: LatencyTask[],
  options: { rounds: number; iterations: number; warmupIterations?: number },
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
  for (const task of tasks) for (let i = 0; i < (options.warmupIterations ?? 8); i++) await task.fn();
  for (let round = 0; round < options.rounds; round++) {
    for (const task of shuffled(tasks)) {
      const bench = new Bench({ time: 0, iterations: options.iterations, warmup: false, retainSamples: true, throws: true });
      bench.add(task.name, task.fn, { async: true });
      await bench.run();
      const result = bench.tasks[0]?.result;
      if (!result || result.state !== "completed") throw new Error(`tinybench: task "${task.name}" did not complete`);
      const into = samples.get(task.name)!;
      for (const sample of result.latency.samples ?? []) into.push(sample);
      await task.afterRound?.();
    }
  }
  return samples;
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
