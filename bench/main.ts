// `npm run bench [-- --full] [-- --only=3,5]`: runs the benchmarks, prints the table, merges them into bench/results.json.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { details, machine, markdownTable, type Machine } from "./_report.ts";
import type { BenchOptions, BenchResult, BenchRun } from "./_types.ts";

const BENCHMARKS: Record<number, () => Promise<{ run: BenchRun }>> = {
  1: () => import("./1-write-overhead.ts"),
  2: () => import("./2-remote-latency.ts"),
  3: () => import("./3-transfer.ts"),
  4: () => import("./4-small-files.ts"),
  5: () => import("./5-read-overhead.ts"),
  6: () => import("./6-scaling.ts"),
  7: () => import("./7-peers.ts"),
  8: () => import("./8-serving.ts"),
  9: () => import("./9-webhook-cost.ts"),
};

interface SavedResult extends BenchResult {
  date: string;
  /** 1-minute load average when this benchmark started. */
  loadAverage: number;
}

interface Saved {
  mode: "quick" | "full";
  command: string;
  machine: Machine;
  date: string;
  benchmarks: SavedResult[];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const full = args.includes("--full");
  const only = args.find((a) => a.startsWith("--only="))?.slice(7).split(",").map(Number).filter(Boolean);
  const ids = only?.length ? only : Object.keys(BENCHMARKS).map(Number);
  const unknown = ids.filter((id) => !BENCHMARKS[id]);
  if (unknown.length) throw new Error(`unknown benchmark(s) ${unknown.join(", ")}; there are 1–9`);
  const tmp = await mkdtemp(join(tmpdir(), "queued-storage-bench-"));
  const opts: BenchOptions = { full, tmp, log: (message) => process.stderr.write(`  · ${message}\n`) };
  const mode = full ? "full" : "quick";
  process.stderr.write(`queued-storage benchmarks, ${mode} mode${full ? "" : " (--full for the issue's sizes)"}: ${ids.join(", ")}\n`);

  const host = machine();
  const results: SavedResult[] = [];
  try {
    for (const id of ids) {
      process.stderr.write(`benchmark ${id}…\n`);
      const { run } = await BENCHMARKS[id]!();
      const loadAverage = Math.round((loadavg()[0] ?? 0) * 100) / 100;
      const result = await run({ ...opts, tmp: join(tmp, String(id)) });
      results.push({ ...result, date: new Date().toISOString(), loadAverage });
      process.stderr.write(`benchmark ${id} done in ${result.seconds.toFixed(0)} s\n`);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }

  const command = `npm run bench${full ? " -- --full" : ""}`;
  const saved = await save(mode, command, host, results);
  const { cpu, cores, node, loadAverage, commit, srcDirty } = saved.machine;
  const at = `${commit}${srcDirty ? " + uncommitted src/ changes" : ""}`;
  console.log(`\nqueued-storage benchmarks (${mode} mode) — ${cpu}, ${cores} cores, Node ${node}, load ${loadAverage}, ${at}\n`);
  console.log(markdownTable(results));
  console.log(`\n${details(results)}\n`);
  const failed = results.flatMap((r) => r.rows).filter((row) => row.met === false);
  console.log(failed.length ? `goals not met: ${failed.map((r) => `${r.bench} (${r.name})`).join(", ")}` : "all goals met");
  for (const note of results.flatMap((r) => r.notes.filter((n) => n.includes("SKIPPED")).map((n) => `${r.id}: ${n}`))) {
    console.log(`!!! ${note}`);
  }
}

/**
 * Merges this run into bench/results.json, the one results file: per mode (`quick`, `full`), the latest result of each
 * benchmark, with the machine and commit of the latest run. Returns this run.
 */
async function save(mode: "quick" | "full", command: string, host: Machine, results: SavedResult[]): Promise<Saved> {
  const file = fileURLToPath(new URL("./results.json", import.meta.url));
  const saved: Saved = { mode, command, machine: host, date: new Date().toISOString(), benchmarks: results };
  const all: Partial<Record<"quick" | "full", Saved>> = await readFile(file, "utf8").then(
    (text) => JSON.parse(text) as Partial<Record<"quick" | "full", Saved>>,
    () => ({}),
  );
  const merged = new Map((all[mode]?.benchmarks ?? []).map((b) => [b.id, b]));
  for (const result of results) merged.set(result.id, result);
  const benchmarks = [...merged.values()].sort((a, b) => a.id - b.id);
  await writeFile(file, `${JSON.stringify({ ...all, [mode]: { ...saved, benchmarks } }, null, 2)}\n`);
  return saved;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
