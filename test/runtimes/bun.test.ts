import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, it } from "vitest";
import { expectWholeSuitePassed } from "./_host/expect.ts";
import { startSuiteServices, type SuiteServices } from "./_host/services.ts";
import { runSuiteScript } from "./_host/spawn.ts";

// The npm package `bun` ships the real binary (@oven/bun-linux-x64). Bun runs the TypeScript source directly and
// resolves packages with its `bun` export condition.
const BUN = fileURLToPath(new URL("../../node_modules/.bin/bun", import.meta.url));

describe("runtime: Bun (shared suite)", () => {
  let services: SuiteServices;
  beforeAll(async () => {
    services = await startSuiteServices("bun");
  });
  afterAll(async () => {
    await services?.stop();
  });

  it("runs every case of the shared suite from the TypeScript source", async () => {
    const run = await runSuiteScript(BUN, ["run", "test/runtimes/_shared/main.ts"], services.env);
    expectWholeSuitePassed("bun", run);
  }, 120_000);
});
