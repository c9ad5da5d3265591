import { EdgeRuntime } from "edge-runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleFor, CONDITIONS } from "./_host/bundle.ts";
import { expectWholeSuitePassed } from "./_host/expect.ts";
import { startSuiteServices, type SuiteServices } from "./_host/services.ts";
import type { SuiteResult } from "./_shared/suite.ts";

// The shared suite in Vercel's edge-runtime (the VM `vercel dev` and Next.js use for Edge Functions): a fresh V8
// context with only the Edge primitives, no `process`, no `require`, code generation off.
describe("runtime: Vercel edge-runtime (shared suite)", () => {
  let services: SuiteServices;
  beforeAll(async () => {
    services = await startSuiteServices("edge-runtime");
  });
  afterAll(async () => {
    await services?.stop();
  });

  it("runs every case of the shared suite in an Edge Function", async () => {
    const { code } = await bundleFor("test/runtimes/_shared/edge.ts", { conditions: CONDITIONS["edge-light"], format: "iife" });
    const runtime = new EdgeRuntime({ initialCode: code });
    expect(runtime.evaluate("typeof process + typeof require + typeof Buffer")).toBe("undefinedundefinedundefined");
    const response = await runtime.dispatchFetch("http://suite.local/", { method: "POST", body: JSON.stringify(services.env) });
    const text = await response.text();
    await response.waitUntil();
    expect(response.status, text).toBe(200);
    expectWholeSuitePassed("edge-runtime", { result: JSON.parse(text) as SuiteResult });
  }, 120_000);
});
