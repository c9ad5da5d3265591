// The runtime-agnostic smoke suite: the same cases run on Node (vitest), Deno, Bun, workerd and edge-runtime.
// It imports only the edge entries and Web APIs; each runtime's entry calls runSuite(env) and reports the result.
import { coreCases } from "./cases-core.ts";
import { qstashCases } from "./cases-qstash.ts";
import { s3Cases } from "./cases-s3.ts";
import { upstashCases } from "./cases-upstash.ts";

/** S3 connection of an s3rver the parent process started. */
export interface SuiteS3 {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** What the parent process hands to the suite: where the services are, and a unique id for namespacing. */
export interface SuiteEnv {
  /** Runtime name, for messages. */
  runtime: string;
  /** Unique per run: S3 key prefixes and Redis key prefixes include it, so parallel runs never collide. */
  runId: string;
  s3: SuiteS3;
  /** Upstash-REST-compatible proxy (test/support/upstash-proxy.ts) over a real redis-server. */
  upstash: { url: string; token: string };
}

export interface SuiteCase {
  name: string;
  run(env: SuiteEnv): Promise<void>;
}

export interface SuiteResult {
  runtime: string;
  passed: number;
  failed: number;
  /** Names of the passed cases. */
  names: string[];
  failures: Array<{ name: string; error: string }>;
  /** What the runtime says about itself (navigator.userAgent where there is one). */
  userAgent: string;
}

/** Every case, in the order they run. */
export const cases: SuiteCase[] = [...coreCases, ...qstashCases, ...s3Cases, ...upstashCases];

/** The line prefix a runtime's entry prints before the JSON result, so the parent can find it in the output. */
export const RESULT_MARKER = "QUEUED_STORAGE_SUITE_RESULT ";

/** Run every case one after the other; a failing case is recorded and the next one runs. */
export async function runSuite(env: SuiteEnv): Promise<SuiteResult> {
  const result: SuiteResult = {
    runtime: env.runtime,
    passed: 0,
    failed: 0,
    names: [],
    failures: [],
    userAgent: _userAgent(),
  };
  for (const testCase of cases) {
    try {
      await testCase.run(env);
      result.passed++;
      result.names.push(testCase.name);
    } catch (error) {
      result.failed++;
      const message = error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : String(error);
      result.failures.push({ name: testCase.name, error: message });
    }
  }
  return result;
}

/** navigator.userAgent where there is one; Vercel's edge-runtime names itself in the `EdgeRuntime` global instead. */
function _userAgent(): string {
  const globals = globalThis as { navigator?: { userAgent?: string }; EdgeRuntime?: unknown };
  if (typeof globals.EdgeRuntime === "string") return `EdgeRuntime/${globals.EdgeRuntime}`;
  return globals.navigator?.userAgent ?? "unknown";
}
