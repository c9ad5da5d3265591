// The one harness of the benchmarks: child processes (a fresh Node per measurement, so that one measurement's garbage
// and heap growth never pollute the next, and a stand-in never shares a process with the client), RSS sampling, and
// the measured section of a child (GC first, then clock, CPU and RSS together).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Samples this process's RSS every `everyMs` (10–20 ms); `reset()` starts again from now (a warm server). */
export interface RssSampler {
  reset(): void;
  /** Start and peak so far, in bytes. */
  read(): { start: number; peak: number };
  /** Stops sampling; `growth` is peak − start. */
  stop(): { start: number; peak: number; growth: number };
}

export function rssSampler(everyMs = 10): RssSampler {
  let start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    const now = process.memoryUsage.rss();
    if (now > peak) peak = now;
  }, everyMs);
  timer.unref();
  const read = (): { start: number; peak: number } => ({ start, peak: (peak = Math.max(peak, process.memoryUsage.rss())) });
  return {
    reset: () => void (start = peak = process.memoryUsage.rss()),
    read,
    stop() {
      clearInterval(timer);
      const { start: from, peak: top } = read();
      return { start: from, peak: top, growth: top - from };
    },
  };
}

/** What a measured section took: wall time, RSS and the process's CPU time (user + system). */
export interface Measured<T> {
  value: T;
  ms: number;
  rssStart: number;
  rssPeak: number;
  rssGrowth: number;
  cpuMs: number;
}

/**
 * Runs `work` as the measured section of a child: a full GC and a short pause first (when run with --expose-gc), so
 * that no measurement pays for the garbage of its setup; `onStart` runs when the clock starts.
 */
export async function measured<T>(work: () => Promise<T>, onStart?: () => void): Promise<Measured<T>> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, 50));
  onStart?.();
  const cpu = process.cpuUsage();
  const sampler = rssSampler(10);
  const started = performance.now();
  const value = await work();
  const ms = performance.now() - started;
  const rss = sampler.stop();
  const used = process.cpuUsage(cpu);
  return { value, ms, rssStart: rss.start, rssPeak: rss.peak, rssGrowth: rss.growth, cpuMs: (used.user + used.system) / 1000 };
}

/** A child's main: prints its result as the last line of stdout (JSON) and exits; errors go to stderr, exit code 1. */
export function childMain<T>(main: () => Promise<T>): void {
  main().then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

/**
 * Runs `script` (a path relative to bench/) in a fresh Node process with `--expose-gc` and jiti, its argument as
 * JSON, and resolves to the JSON of its last line. `onOutput` sees stdout as it arrives. Extra Node flags come from
 * BENCH_CHILD_FLAGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the children.
 */
export async function runChild<T>(script: string, argument: unknown, label: string, onOutput?: (soFar: string) => void): Promise<T> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const flags = process.env.BENCH_CHILD_FLAGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, ["--expose-gc", ...flags, "--import", "jiti/register", path, JSON.stringify(argument)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    out += text;
    onOutput?.(out);
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => (err += text));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const line = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || !line.startsWith("{")) throw new Error(`bench/${script.replace(/^\.\//, "")} (${label}) failed with code ${code}:\n${err || out}`);
  return JSON.parse(line) as T;
}
