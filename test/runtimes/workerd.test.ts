import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleFor, CONDITIONS } from "./_host/bundle.ts";
import { expectWholeSuitePassed } from "./_host/expect.ts";
import { startSuiteServices, type SuiteServices } from "./_host/services.ts";
import type { SuiteResult } from "./_shared/suite.ts";

// The shared suite inside Cloudflare's workerd (through miniflare), bundled the way wrangler bundles a Worker, with
// no nodejs_compat flag: only Web APIs. Its fetch reaches the host's s3rver and Upstash proxy on loopback (miniflare
// lets Workers fetch private addresses, like `wrangler dev`).
describe("runtime: workerd (shared suite)", () => {
  let services: SuiteServices;
  let mf: Miniflare | undefined;
  beforeAll(async () => {
    services = await startSuiteServices("workerd");
  });
  afterAll(async () => {
    await mf?.dispose();
    await services?.stop();
  });

  it("runs every case of the shared suite in a module Worker", async () => {
    const { code } = await bundleFor("test/runtimes/_shared/worker.ts", { conditions: CONDITIONS.workerd, format: "esm" });
    // Modules listed explicitly: miniflare would otherwise refuse the variable `import(specifier)` of driver specs,
    // which wrangler leaves in the bundle too (it only runs when a spec names a driver).
    mf = new Miniflare({
      modules: [{ type: "ESModule", path: "worker.mjs", contents: code }],
      compatibilityDate: "2025-09-01",
    });
    const response = await mf.dispatchFetch("http://suite.local/", { method: "POST", body: JSON.stringify(services.env) });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expectWholeSuitePassed("workerd", { result: JSON.parse(text) as SuiteResult });
  }, 120_000);
});
