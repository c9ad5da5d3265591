import { spawnChild, stopChild } from "../../support/children.ts";
import { RESULT_MARKER, type SuiteEnv, type SuiteResult } from "../_shared/suite.ts";

export interface ScriptRun {
  /** Exit code; `null` when the process was killed (timeout). */
  code: number | null;
  /** The suite's result as the runtime printed it, or `null` when it printed none. */
  result: SuiteResult | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a runtime binary on the suite's script entry, with the suite env in QUEUED_STORAGE_SUITE_ENV, and collect what
 * it reports. Never rejects for a failing run: the test asserts on exit code and counts, and shows the output.
 */
export function runSuiteScript(command: string, args: string[], env: SuiteEnv, timeoutMs = 120_000): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawnChild(command, args, {
      cwd: new URL("../../../", import.meta.url),
      env: { ...process.env, QUEUED_STORAGE_SUITE_ENV: JSON.stringify(env), NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const timer = setTimeout(() => void stopChild(child, "SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start \`${command}\`: ${error.message}`));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, result: parseResult(stdout), stdout, stderr });
    });
  });
}

/** The suite result printed after RESULT_MARKER, or `null`. */
export function parseResult(output: string): SuiteResult | null {
  const line = output.split("\n").find((l) => l.startsWith(RESULT_MARKER));
  return line ? (JSON.parse(line.slice(RESULT_MARKER.length)) as SuiteResult) : null;
}

/** A readable account of a run that did not pass, for the assertion message. */
export function describeRun(runtime: string, run: { code?: number | null; result: SuiteResult | null; stdout?: string; stderr?: string }): string {
  const failures = run.result?.failures.map((f) => `  ✗ ${f.name}\n    ${f.error.split("\n").slice(0, 6).join("\n    ")}`);
  return [
    `${runtime}: exit code ${run.code ?? "n/a"}, ${run.result ? `${run.result.passed} passed, ${run.result.failed} failed` : "no result printed"}`,
    ...(failures ?? []),
    run.result ? "" : `stdout:\n${run.stdout?.slice(-4000)}\nstderr:\n${run.stderr?.slice(-4000)}`,
  ].join("\n");
}
