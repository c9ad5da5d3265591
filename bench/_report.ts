import { execFileSync } from "node:child_process";
import { arch, cpus, loadavg, platform, release, totalmem } from "node:os";
import { formatNumber } from "./_stats.ts";
import type { BenchResult, Measure, Row } from "./_types.ts";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  /** 1-minute load average when the run started: other processes on the machine add noise. */
  loadAverage: number;
  /** The commit measured, and whether src/ had uncommitted changes (then the figures are of the working tree). */
  commit: string;
  srcDirty: boolean;
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    commit: git(["rev-parse", "--short", "HEAD"]) || "unknown",
    srcDirty: git(["status", "--porcelain", "--", "src"]) !== "",
  };
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

const value = (m: Measure, which: "median" | "p95"): string => `${formatNumber(m[which])} ${m.unit}`;
const verdict = (row: Row): string => (row.met === null ? "–" : row.met ? "yes" : "**no**");

/** The results as one Markdown table (terminal and bench/README.md), then the side figures of each row. */
export function markdownTable(results: BenchResult[]): string {
  const header = ["#", "case", "baseline", "median", "p95", "candidate", "median", "p95", "ratio", "goal", "met"];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const result of results) {
    for (const row of result.rows) {
      lines.push(
        `| ${[
          row.bench,
          row.name,
          row.baseline.label,
          value(row.baseline, "median"),
          value(row.baseline, "p95"),
          row.candidate.label,
          value(row.candidate, "median"),
          value(row.candidate, "p95"),
          row.difference ? `${row.ratio >= 0 ? "+" : ""}${formatNumber(row.ratio)} ${row.candidate.unit}` : `${formatNumber(row.ratio)}×`,
          row.goal,
          verdict(row),
        ].join(" | ")} |`,
      );
    }
  }
  return lines.join("\n");
}

export function details(results: BenchResult[]): string {
  const out: string[] = [];
  for (const result of results) {
    const params = Object.entries(result.params).map(([k, v]) => `${k} ${v}`).join(", ");
    out.push(`${result.id}. ${result.title} (${params}; ${result.seconds.toFixed(0)} s)`);
    for (const row of result.rows) {
      const extra = Object.entries(row.extra).map(([k, v]) => `${k}: ${v}`).join("; ");
      out.push(`   - ${row.name}: ratio = ${row.ratioLabel}${extra ? `; ${extra}` : ""}`);
    }
    for (const note of result.notes) out.push(`   * ${note}`);
  }
  return out.join("\n");
}
