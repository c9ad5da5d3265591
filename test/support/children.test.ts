import { readdirSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DENO, spawnChild, stopChild } from "./children.ts";

// The orphans of the hostile test came from killing node_modules/.bin/deno, a Node shim that runs the real deno with
// spawnSync: the shim died, deno lived on under init. A child started here takes its grandchildren with it.

const SHIM = fileURLToPath(new URL("../../node_modules/.bin/deno", import.meta.url));

/** Pids of live processes whose environment carries `marker`. */
function carrying(marker: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  for (const start = Date.now(); !check(); ) {
    if (Date.now() - start > ms) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.runIf(process.platform === "linux")("test/support/children.ts", () => {
  it("stopping the deno shim (SIGKILL) also ends the real deno it started: no orphan", async () => {
    const marker = `QS_CHILDREN_TEST=${randomBytes(4).toString("hex")}`;
    const env = { ...process.env, [marker.split("=")[0]!]: marker.split("=")[1]! };
    const child = spawnChild(SHIM, ["eval", "await new Promise((resolve) => setTimeout(resolve, 60_000))"], { env, stdio: "ignore" });
    await until(() => carrying(marker).length >= 2); // the shim (node) and deno
    await stopChild(child, "SIGKILL");
    await until(() => carrying(marker).length === 0);
    expect(carrying(marker)).toEqual([]);
  }, 30_000);

  it("DENO is the real binary, not the Node shim", () => {
    expect(readFileSync(DENO).subarray(0, 4).toString("latin1")).toBe("\x7fELF");
  });
});
