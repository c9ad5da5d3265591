// Entry for runtimes that run a script (Deno, Bun): the env comes as JSON in QUEUED_STORAGE_SUITE_ENV, the result
// goes to stdout after RESULT_MARKER, and the exit code is 1 when a case failed.
import { RESULT_MARKER, runSuite, type SuiteEnv } from "./suite.ts";

interface _Globals {
  Deno?: { env: { get(name: string): string | undefined }; exit(code: number): never };
  process?: { env: Record<string, string | undefined>; exitCode?: number };
}

const globals = globalThis as _Globals;
const raw = globals.Deno?.env.get("QUEUED_STORAGE_SUITE_ENV") ?? globals.process?.env.QUEUED_STORAGE_SUITE_ENV;
if (!raw) throw new Error("QUEUED_STORAGE_SUITE_ENV is not set: run this through test/runtimes/*.test.ts");
const result = await runSuite(JSON.parse(raw) as SuiteEnv);
console.log(RESULT_MARKER + JSON.stringify(result));
const code = result.failed === 0 ? 0 : 1;
if (globals.Deno) globals.Deno.exit(code);
else if (globals.process) globals.process.exitCode = code;
