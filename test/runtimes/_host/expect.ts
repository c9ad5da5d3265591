import { expect } from "vitest";
import { cases, type SuiteResult } from "../_shared/suite.ts";
import { describeRun } from "./spawn.ts";

/** Every case of the shared suite passed on `runtime`, by count and by name; the message tells what went wrong. */
export function expectWholeSuitePassed(
  runtime: string,
  run: { code?: number | null; result: SuiteResult | null; stdout?: string; stderr?: string },
): void {
  const account = describeRun(runtime, run);
  if (run.code !== undefined) expect(run.code, account).toBe(0);
  expect(run.result, account).not.toBeNull();
  expect(run.result!.failed, account).toBe(0);
  expect(run.result!.passed, account).toBe(cases.length);
  expect(run.result!.names, account).toEqual(cases.map((c) => c.name));
  // Print the counts where CI logs show them: which runtime ran how many cases.
  console.log(`[runtime matrix] ${runtime} (${run.result!.userAgent}): ${run.result!.passed} passed, ${run.result!.failed} failed`);
}
