import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

// Every long-lived child a test starts goes through here: it gets a process group of its own, and stopping it signals
// the whole group, so a runtime started through a wrapper (a shell, `deno task`, an npm bin shim that spawns the real
// binary) goes with it. Whatever a test forgot is killed when the worker exits; test/support/global-setup.ts reaps the
// rest (anything still carrying this run's QUEUED_STORAGE_TEST_RUN) when the suite ends.

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The real Deno binary from the `deno` npm package (its optional `@deno/<platform>` dependency), not the
 * `node_modules/.bin/deno` shim: the shim is a Node process that spawns deno, and killing it leaves deno running.
 */
export const DENO: string = (createRequire(`${ROOT}node_modules/deno/package.json`)("./install_api.cjs") as { runInstall(): string }).runInstall();

/** The real Bun binary shipped by the `bun` npm package. */
export const BUN: string = `${ROOT}node_modules/bun/bin/bun.exe`;

const live = new Set<ChildProcess>();

process.once("exit", () => {
  for (const child of live) signalGroup(child, "SIGKILL");
});

/** `spawn`, in a process group of its own, tracked until it exits. */
export function spawnChild(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  live.add(child);
  child.once("exit", () => {
    live.delete(child);
    // Grandchildren outlive their parent unless told: the group goes too.
    signalGroup(child, "SIGKILL");
  });
  return child;
}

/** Signal the child's process group, wait until the child exited; SIGKILL the group after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 5000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    signalGroup(child, signal);
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
  signalGroup(child, "SIGKILL");
}

/**
 * Run a command to its end, like `execFile`, but in a process group of its own: on `timeoutMs` the whole group is
 * killed (npm, a shim and what they started), not only the first process.
 */
export function runChild(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnChild(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    // stdout, then stderr, as execFile's callback gets them (a caller may parse stdout, e.g. `npm pack --json`).
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const timer = options.timeoutMs ? setTimeout(() => void stopChild(child, "SIGKILL"), options.timeoutMs) : undefined;
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start \`${command}\`: ${error.message}`));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output: `${stdout}\n${stderr}` });
    });
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}
