import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { BUN as BUN_BIN, DENO as DENO_BIN, spawnChild, stopChild } from "../support/children.ts";
import { freePort } from "../support/ports.ts";
import { CURRENT_KEY, HANDLER_OPTIONS, SEEDED_KEY, type Health } from "./_hostile-app.ts";
import { hostileCases, type HostileTarget } from "./_hostile-cases.ts";

// Every adapter as a real server in its own process, on every runtime it applies to, under hostile input. A crash
// ends the process and fails every later check; an unhandled rejection is printed and fails the output check.

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = "test/adapters/_hostile-main.ts";
const NODE = [process.execPath, "--import", "jiti/register", MAIN];
// The real binaries, not the node_modules/.bin shims (a Node process that spawns deno would be the one killed).
const DENO = [DENO_BIN, "run", "--allow-all", "--no-lock", MAIN];
const BUN = [BUN_BIN, MAIN];

const SERVERS: Array<[string, string[]]> = [
  ["h3 1 (defineTransferHandler) on node:http", [...NODE, "h3"]],
  ["h3 2 (defineTransferHandler) on node:http", [...NODE, "h3v2"]],
  ["Hono (transferRoute) on Node via @hono/node-server", [...NODE, "hono"]],
  ["createTransferHandler on Node via @hono/node-server", [...NODE, "raw"]],
  ["Hono (transferRoute) on Deno.serve", [...DENO, "hono"]],
  ["createTransferHandler on Deno.serve", [...DENO, "raw"]],
  ["Hono (transferRoute) on Bun.serve", [...BUN, "hono"]],
  ["createTransferHandler on Bun.serve", [...BUN, "raw"]],
];

describe.each(SERVERS)("hostile input: %s", (_name, command) => {
  let child: ChildProcess;
  let port: number;
  let output = "";

  beforeAll(async () => {
    port = await freePort();
    child = spawnChild(command[0]!, [...command.slice(1), String(port)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    child.stdout!.setEncoding("utf8").on("data", (text: string) => (output += text));
    child.stderr!.setEncoding("utf8").on("data", (text: string) => (output += text));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${command[0]} did not start listening within 60 s:\n${output}`)), 60_000);
      child.once("error", (error) => reject(new Error(`cannot start ${command[0]}: ${error.message}`)));
      child.once("exit", (code) => reject(new Error(`${command[0]} exited with ${code} before listening:\n${output}`)));
      child.stdout!.on("data", () => {
        if (output.includes("listening")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }, 90_000);

  afterAll(async () => {
    // Nothing the attacks did may have crashed the process or left an unhandled error in its output.
    const alive = child.exitCode === null && child.signalCode === null;
    await stopChild(child, "SIGKILL");
    expect(alive, `the server process died:\n${output}`).toBe(true);
    expect(output, "the server printed an error").not.toMatch(/Unhandled|ERR_INVALID_STATE|TypeError|uncaught/i);
  });

  const state = async (): Promise<Health> => {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(20_000) });
    return (await response.json()) as Health;
  };
  hostileCases(
    (): HostileTarget => ({
      port,
      path: "/api/transfer",
      subject: `http://127.0.0.1:${port}/api/transfer`,
      signingKey: CURRENT_KEY,
      bodyTimeoutMs: HANDLER_OPTIONS.bodyTimeoutMs!,
      job: async () => JSON.stringify({ key: SEEDED_KEY, generation: ((await state()).status as { generation: number }).generation }),
      state: async () => {
        const { calls, status } = await state();
        return { calls, status };
      },
      output: () => output,
      drainsRefusedBodies: command[0] === DENO[0],
    }),
  );
});
