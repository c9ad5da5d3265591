import { afterAll, beforeAll, describe, it } from "vitest";
import { startSuiteServices, type SuiteServices } from "./_host/services.ts";
import { cases } from "./_shared/suite.ts";

// The shared suite on Node itself: each case is its own vitest test.
describe("runtime: Node (shared suite)", () => {
  let services: SuiteServices;
  beforeAll(async () => {
    services = await startSuiteServices("node");
  });
  afterAll(async () => {
    await services?.stop();
  });

  for (const testCase of cases) {
    it(testCase.name, async () => {
      await testCase.run(services.env);
    });
  }
});
