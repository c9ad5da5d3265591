import type { BenchOptions, BenchResult } from "./_types.ts"; export async function run(_opts: BenchOptions): Promise<BenchResult> { throw new Error("todo"); }
