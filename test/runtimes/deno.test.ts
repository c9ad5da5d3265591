import { afterAll, beforeAll, describe, it } from "vitest";
import { expectWholeSuitePassed } from "./_host/expect.ts";
import { startSuiteServices, type SuiteServices } from "./_host/services.ts";
import { runSuiteScript } from "./_host/spawn.ts";
import { DENO } from "../support/children.ts";

// The npm package `deno` ships the real binary (@deno/linux-x64-glibc), run as is (not through its Node shim). Deno runs our TypeScript source as is, with
// the repository's deno.json import map and the populated node_modules: the same way JSR consumers load it.

describe("runtime: Deno (shared suite)", () => {
  let services: SuiteServices;
  beforeAll(async () => {
    services = await startSuiteServices("deno");
  });
  afterAll(async () => {
    await services?.stop();
  });

  it("runs every case of the shared suite from the TypeScript source", async () => {
    const run = await runSuiteScript(DENO, ["run", "--allow-all", "--no-lock", "test/runtimes/_shared/main.ts"], services.env);
    expectWholeSuitePassed("deno", run);
  }, 120_000);
});
