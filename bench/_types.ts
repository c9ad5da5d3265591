/** What every benchmark gets from the command line. */
export interface BenchOptions {
  /** `--full`: the sizes (1 GiB, 10,000 files, …); otherwise the quick defaults, labelled as such. */
  full: boolean;
  /** Scratch directory of this run (removed at the end). */
  tmp: string;
  /** Progress lines (stderr), so that stdout stays the table. */
  log(message: string): void;
}

/** One side of a comparison, summarized. */
export interface Measure {
  label: string;
  /** `ms` (latency, lower is better) or a rate such as `MiB/s` or `files/s` (higher is better). */
  unit: string;
  median: number;
  /** For latencies the 95th percentile; for rates the slow tail (the 5th percentile of the per-round rate). */
  p95: number;
  /** Samples behind median and p95 (operations, or rounds for rates). */
  n: number;
}

/** One line of the table: a candidate against its baseline, both measured in the same run. */
export interface Row {
  bench: number;
  name: string;
  baseline: Measure;
  candidate: Measure;
  /** From the two medians, unless `ratioLabel` says otherwise (bench 7 pairs rounds); it also says which way round. */
  ratio: number;
  ratioLabel: string;
  /** `ratio` is a difference (candidate − baseline, in the candidate's unit), for figures whose baseline may be 0. */
  difference?: boolean;
  /** The goal as text (e.g. `≤ 1.10×`), or `report` when the issue sets none. */
  goal: string;
  /** `null`: nothing to meet (informative row). */
  met: boolean | null;
  /** Side figures: peak RSS growth, requests per operation, concurrency used, … */
  extra: Record<string, string | number>;
}

export interface BenchResult {
  id: number;
  title: string;
  /** Sizes and counts actually used (quick or full). */
  params: Record<string, string | number>;
  rows: Row[];
  notes: string[];
  seconds: number;
}

export type BenchRun = (opts: BenchOptions) => Promise<BenchResult>;
