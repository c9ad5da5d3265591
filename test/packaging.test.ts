import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { buildNitroExample } from "./adapters/_nitro-app.ts";
import { runChild } from "./support/children.ts";

// The npm package as published (unbuild output, exports, declarations) and the JSR package (deno.json), checked
// with the tools their registries' users rely on. One build, then every check against it.
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BIN = join(ROOT, "node_modules/.bin");
const SUBPATHS = [".", "./upstash", "./qstash", "./drivers/s3", "./drivers/fs", "./node-fetch", "./hono", "./h3", "./nitro"];

interface Run {
  code: number;
  output: string;
}

function run(command: string, args: string[], timeout = 120_000, env: Record<string, string> = {}, cwd: string = ROOT): Promise<Run> {
  // In a process group of its own: a timeout kills npm (or the deno shim) together with what it started.
  return runChild(command, args, { cwd, timeoutMs: timeout, env: { ...process.env, NO_COLOR: "1", ...env } });
}

describe("packaging", () => {
  beforeAll(async () => {
    const build = await run("npm", ["run", "build"], 420_000); // generous: the CI machine may be shared
    expect(build.code, `npm run build failed:\n${build.output}`).toBe(0);
  }, 440_000);

  it("package.json exports and deno.json exports name the same subpaths", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, unknown> };
    const deno = JSON.parse(await readFile(join(ROOT, "deno.json"), "utf8")) as { exports: Record<string, string> };
    expect(Object.keys(pkg.exports).filter((k) => k !== "./package.json")).toEqual(SUBPATHS);
    expect(Object.keys(deno.exports)).toEqual(SUBPATHS);
  });

  it("every npm subpath imports from dist with the same exports as its source, and has declarations", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      exports: Record<string, { types: string; default: string }>;
    };
    const deno = JSON.parse(await readFile(join(ROOT, "deno.json"), "utf8")) as { exports: Record<string, string> };
    for (const subpath of SUBPATHS) {
      const { types, default: file } = pkg.exports[subpath]!;
      const built = Object.keys(await import(join(ROOT, file))).sort();
      const source = Object.keys(await import(join(ROOT, deno.exports[subpath]!))).sort();
      expect(built, subpath).toEqual(source);
      expect((await readFile(join(ROOT, types), "utf8")).length, `${types}`).toBeGreaterThan(0);
    }
  });

  it("publint --strict reports no problems", async () => {
    const result = await run(join(BIN, "publint"), ["--strict"]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("All good!");
  });

  it("@arethetypeswrong/cli (esm-only profile) reports no problems", async () => {
    const result = await run(join(BIN, "attw"), ["--pack", ".", "--profile", "esm-only", "--format", "json"]);
    expect(result.code, result.output).toBe(0);
    const json = result.output.slice(result.output.indexOf("{"), result.output.lastIndexOf("}") + 1);
    const report = JSON.parse(json) as { analysis: { problems: Array<{ kind: string; entrypoint: string; resolutionKind?: string }> } };
    // esm-only ignores node10 and node16-cjs: the package is ESM only (engines node >= 20.11, require(esm) aside).
    const problems = report.analysis.problems.filter((p) => p.resolutionKind !== "node10" && p.resolutionKind !== "node16-cjs");
    expect(problems).toEqual([]);
  }, 60_000);

  it("deno publish --dry-run passes (types, slow types, .ts specifiers) offline, from node_modules", async () => {
    // A fresh DENO_DIR and an unreachable npm registry: everything must come from node_modules ("nodeModulesDir": "manual").
    const offline = { DENO_DIR: await mkdtemp(join(tmpdir(), "queued-storage-deno-")), NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/" };
    const result = await run(join(BIN, "deno"), ["publish", "--dry-run", "--allow-dirty"], 120_000, offline);
    await rm(offline.DENO_DIR, { recursive: true, force: true });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("Dry run complete");
  }, 120_000);

  it("the packed declarations type-check in a consumer project with TypeScript 5 and 7 (skipLibCheck: false, h3 2)", async () => {
    // The tarball as npm would install it, in a project under .tmp/ (its other imports resolve from this repository's
    // node_modules), with `h3` being h3 2: test/fixtures/consumer/index.ts uses every subpath.
    await mkdir(join(ROOT, ".tmp"), { recursive: true });
    const dir = await mkdtemp(join(ROOT, ".tmp", "consumer-"));
    try {
      const pack = await run("npm", ["pack", "--json", "--pack-destination", dir]);
      expect(pack.code, pack.output).toBe(0);
      const [{ filename }] = JSON.parse(pack.output.slice(pack.output.indexOf("["), pack.output.lastIndexOf("]") + 1)) as [{ filename: string }];
      await mkdir(join(dir, "node_modules/queued-storage"), { recursive: true });
      const untar = await run("tar", ["xzf", join(dir, filename), "-C", join(dir, "node_modules/queued-storage"), "--strip-components=1"]);
      expect(untar.code, untar.output).toBe(0);
      await symlink(join(ROOT, "node_modules/h3-v2"), join(dir, "node_modules/h3"), "dir");
      await cp(join(ROOT, "test/fixtures/consumer"), dir, { recursive: true });
      await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
      for (const [name, tsc] of [["TypeScript 5", "typescript/bin/tsc"], ["TypeScript 7", "typescript-7/bin/tsc"]] as const) {
        const version = await run(process.execPath, [join(ROOT, "node_modules", tsc), "--version"]);
        expect(version.output).toContain(name === "TypeScript 5" ? "Version 5." : "Version 7.");
        // index.ts with skipLibCheck: false; frameworks.ts (h3 2, Hono, both Nitros' config types) with it on.
        for (const project of ["tsconfig.json", "tsconfig.frameworks.json"]) {
          const result = await run(process.execPath, [join(ROOT, "node_modules", tsc), "-p", join(dir, project)]);
          // Other packages' declarations are theirs to fix: only errors in ours and in the consumer's files count.
          const ours = result.output.split("\n").filter((l) => /error TS/.test(l) && /(node_modules\/queued-storage\/|(^|\/)(index|frameworks)\.ts\()/.test(l));
          expect(ours, `${name} (${version.output.trim()}), ${project}:\n${result.output}`).toEqual([]);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it("the built Nitro module (dist/adapters/nitro.mjs) bundles its runtime into a Nitro app", async () => {
    const app = await buildNitroExample("nitropack 2", join(ROOT, "dist/adapters/nitro.mjs"));
    try {
      const server = await readFile(join(app.dir, ".output/server/chunks/nitro/nitro.mjs"), "utf8");
      expect(server).toContain("_mountQueuedStorage");
      const routes = await readFile(join(app.dir, ".output/nitro.json"), "utf8");
      expect(routes).toContain("node-server");
    } finally {
      await app.remove();
    }
  }, 120_000);

  // Each npm example as its README says, from a copy: `npm install` (queued-storage is `file:../..`, the repository
  // root, built above) and its build command. The copy sits in .tmp/ inside the repository as examples/ does, so the
  // link is rewritten to the same root by absolute path.
  it.each([
    { name: "nitro", command: ["npm", "run", "build"], output: ".output/server/index.mjs" },
    { name: "nitro3", command: ["npm", "run", "build"], output: ".output/server/index.mjs" },
    { name: "cloudflare-worker", command: ["npx", "wrangler", "deploy", "--dry-run", "--outdir", "out"], output: "out/index.js" },
  ])("examples/$name installs from a clean copy with the package linked from the repository, and builds", async ({ name, command, output }) => {
    await mkdir(join(ROOT, ".tmp"), { recursive: true });
    const dir = await mkdtemp(join(ROOT, ".tmp", `example-${name}-`));
    try {
      await cp(join(ROOT, "examples", name), dir, { recursive: true, filter: (source) => !/[/\\](node_modules|\.output|\.nitro|\.data|\.wrangler|out)([/\\]|$)/.test(source) });
      const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
      expect(pkg.dependencies["queued-storage"]).toBe("file:../..");
      pkg.dependencies["queued-storage"] = `file:${ROOT}`;
      await writeFile(join(dir, "package.json"), JSON.stringify(pkg, null, 2));
      const install = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], 300_000, {}, dir);
      expect(install.code, install.output).toBe(0);
      expect(await realpath(join(dir, "node_modules/queued-storage"))).toBe(await realpath(ROOT));
      const built = await run(command[0]!, command.slice(1), 300_000, { WRANGLER_SEND_METRICS: "false" }, dir);
      expect(built.code, built.output).toBe(0);
      expect(existsSync(join(dir, output)), `${output} after ${command.join(" ")}:\n${built.output}`).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
