import { describe, expect, it } from "vitest";
import { CONDITIONS } from "./runtimes/_host/bundle.ts";
import { checkEdgeEntry, formatViolations } from "./runtimes/_host/guard.ts";

// The edge entries: what Workers, Vercel Edge and browsers may import. drivers/fs is Node-flavoured on purpose.
const EDGE_ENTRIES = ["src/index.ts", "src/flags/upstash.ts", "src/queues/qstash.ts", "src/drivers/s3/index.ts", "src/adapters/hono.ts"];
const TARGETS = Object.entries(CONDITIONS);

describe("edge guard: no node:* import and no Node global in the edge entries", () => {
  for (const entry of EDGE_ENTRIES) {
    for (const [target, conditions] of TARGETS) {
      it(`${entry} bundled for ${target} (${conditions.join(", ")})`, async () => {
        const violations = await checkEdgeEntry(entry, conditions);
        expect(violations, `${entry} is not edge-safe for ${target}:\n${formatViolations(violations)}`).toEqual([]);
      });
    }
  }
});

describe("edge guard: the h3 adapter", () => {
  // h3 v1 itself loads node-mock-http (Buffer at import time); on Workers, Nitro's presets polyfill that through unenv.
  // What our adapter adds on top of h3 must be edge-safe.
  it("src/adapters/h3.ts adds no Node built-in or global beyond h3 v1's own dependencies", async () => {
    const violations = await checkEdgeEntry("src/adapters/h3.ts", CONDITIONS.workerd);
    const ours = violations.filter((v) => !v.chain.includes("node_modules/h3/dist/index.mjs"));
    expect(ours, formatViolations(ours)).toEqual([]);
  });
});

describe("edge guard: catches what it must", () => {
  it("names the import chain of a node:* module reached through our fs driver", async () => {
    const violations = await checkEdgeEntry("test/runtimes/_fixtures/leaks-fs.ts", CONDITIONS.workerd);
    const report = formatViolations(violations);
    expect(report).toContain("node-import node:fs/promises at src/drivers/fs/index.ts");
    expect(report).toContain("via test/runtimes/_fixtures/leaks-fs.ts → src/drivers/fs/index.ts → node:fs/promises");
    expect(report).toContain("via test/runtimes/_fixtures/leaks-fs.ts → src/drivers/fs/index.ts → src/drivers/fs/_io.ts → node:path");
  });

  it("reports process and Buffer in our own code, even behind a typeof check, with file and line", async () => {
    const violations = await checkEdgeEntry("test/runtimes/_fixtures/leaks-globals.ts", CONDITIONS["edge-light"]);
    expect(violations.map((v) => `${v.what} ${v.where}`)).toEqual([
      "process test/runtimes/_fixtures/leaks-globals.ts:2",
      "Buffer test/runtimes/_fixtures/leaks-globals.ts:4",
    ]);
  });
});
