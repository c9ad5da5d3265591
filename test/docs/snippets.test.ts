import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { standInS3, startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { snippetsOf, type Snippet } from "./_snippets.ts";
import { runChild } from "../support/children.ts";

// Every ```ts block of README.md, docs/**/*.md and bench/README.md, written out as files and type-checked with this repository's
// TypeScript against the source (as `queued-storage/...`); blocks marked ```ts run are executed with jiti, against
// s3rver where they read S3_* from env. A block that names a file on its first line (`// storage.ts`) is that file,
// so later blocks may import it; Nitro/Nuxt server files and configs get those frameworks' auto-imports
// (_nitro-globals.d.ts), nothing else does. Blocks starting with `// fragment` are deliberately not programs. A `run`
// block's `// prints: <text>` comments are what it must print, line by line, in that order.

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SUBPATHS: Record<string, string> = {
  "queued-storage": "src/index.ts",
  "queued-storage/upstash": "src/flags/upstash.ts",
  "queued-storage/qstash": "src/queues/qstash.ts",
  "queued-storage/drivers/s3": "src/drivers/s3/index.ts",
  "queued-storage/drivers/fs": "src/drivers/fs/index.ts",
  "queued-storage/node-fetch": "src/transports/node-fetch.ts",
  "queued-storage/hono": "src/adapters/hono.ts",
  "queued-storage/h3": "src/adapters/h3.ts",
  "queued-storage/nitro": "src/adapters/nitro/index.ts",
};

interface Written extends Snippet {
  file: string;
}

function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<{ code: number; output: string }> {
  return runChild(command, args, { cwd: options.cwd, timeoutMs: 120_000, env: { ...process.env, NO_COLOR: "1", ...options.env } });
}

describe("docs: every TypeScript block of README.md, docs/** and bench/README.md", async () => {
  const inDocs = (await readdir(join(ROOT, "docs"), { recursive: true, encoding: "utf8" })).filter((f) => f.endsWith(".md")).sort();
  const docs = ["README.md", ...inDocs.map((f) => `docs/${f}`), "bench/README.md"];
  const dir = join(ROOT, ".tmp", `docs-${process.pid}`);
  const written: Written[] = [];
  let fragments = 0;
  let errors = "";

  beforeAll(async () => {
    await rm(dir, { recursive: true, force: true });
    for (const doc of docs) {
      const base = join(dir, doc.replace(/\W+/g, "-"));
      for (const snippet of await snippetsOf(ROOT, doc)) {
        if (snippet.fragment) {
          fragments++;
          continue;
        }
        const line = snippet.where.split(":")[1];
        let name = snippet.path ?? `block-${line}.ts`;
        if (written.some((w) => w.file === join(base, snippet.app ? "app" : "", name))) name = name.replace(/\.ts$/, `.${line}.ts`);
        const file = join(base, snippet.app ? "app" : "", name);
        const isModule = /^\s*(import|export)\s/m.test(snippet.code);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, isModule ? snippet.code : `${snippet.code}export {};\n`);
        written.push({ ...snippet, file });
      }
    }
    // A canary the checker must reject: proves a broken block fails this test.
    await writeFile(join(dir, "canary.ts"), `await storage.setItemRaw("k", request.body);\nexport {};\n`);
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const compilerOptions = {
      target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022", "DOM", "DOM.Iterable"], types: ["node"],
      strict: true, noEmit: true, skipLibCheck: true, allowImportingTsExtensions: true, resolveJsonModule: true,
      paths: Object.fromEntries(Object.entries(SUBPATHS).map(([name, path]) => [name, [join(ROOT, path)]])),
    };
    const globals = join(ROOT, "test/docs/_nitro-globals.d.ts");
    // Outside Nitro 2 / Nuxt files, `h3` means today's h3 (2, the `h3-v2` alias); those files keep h3 1's auto-imports.
    const h3v2 = { ...compilerOptions, paths: { ...compilerOptions.paths, h3: [join(ROOT, "node_modules/h3-v2/dist/_entries/generic.d.mts")] } };
    await writeFile(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: h3v2, include: ["**/*.ts"], exclude: ["*/app/**"] }));
    await writeFile(join(dir, "tsconfig.app.json"), JSON.stringify({ compilerOptions, include: ["*/app/**/*.ts", globals] }));
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const results = await Promise.all(["tsconfig.json", "tsconfig.app.json"].map((p) => run(process.execPath, [tsc, "-p", p], { cwd: dir })));
    errors = results.map((r) => r.output).join("\n");
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** tsc's errors in `file`, with the line mapped back into the Markdown. */
  const errorsIn = (snippet: Written): string[] => {
    const name = relative(dir, snippet.file);
    const fenceLine = Number(snippet.where.split(":")[1]);
    return errors
      .split("\n")
      .filter((l) => l.startsWith(`${name}(`))
      .map((l) => l.replace(/^[^(]+\((\d+),(\d+)\)/, (_, row: string, col: string) => `${snippet.where.split(":")[0]}:${fenceLine + Number(row)}:${col}`));
  };

  it("the checker rejects a block that uses undefined names (the canary)", () => {
    expect(errors).toMatch(/canary\.ts\(1,\d+\): error TS\d+: Cannot find name 'storage'/);
    expect(errors).toMatch(/canary\.ts\(1,\d+\): error TS\d+: Cannot find name 'request'/);
  });

  it("nothing else fails: every error tsc reports is in a block or the canary", () => {
    const known = new Set(["canary.ts", ...written.map((w) => relative(dir, w.file))]);
    const stray = errors.split("\n").filter((l) => /\(\d+,\d+\): error /.test(l) && !known.has(l.slice(0, l.indexOf("("))));
    expect(stray).toEqual([]);
  });

  it("the blocks are all there: as many as before the README was split into docs/ (22, 3 of them run)", () => {
    expect(written.length + fragments).toBeGreaterThanOrEqual(22);
    expect(written.filter((w) => w.run).length).toBeGreaterThanOrEqual(3);
    expect(written.some((w) => w.where.startsWith("README.md:") && w.run)).toBe(true);
  });

  for (const doc of docs) {
    it(`${doc}: every block type-checks`, () => {
      const mine = written.filter((w) => w.where.startsWith(`${doc}:`));
      expect(mine.flatMap(errorsIn)).toEqual([]);
    });
  }

  describe("blocks marked `run`", () => {
    let s3: S3rverHandle;
    beforeAll(async () => {
      s3 = await startS3rver({ bucket: "docs" });
    });
    afterAll(async () => {
      await s3?.stop();
    });

    it("there are some, and each runs to completion with exit code 0 (S3_* env pointing at s3rver)", async () => {
      const runnable = written.filter((w) => w.run);
      expect(runnable.map((w) => w.where).length).toBeGreaterThan(0);
      const alias = Object.fromEntries(Object.entries(SUBPATHS).map(([name, path]) => [name, join(ROOT, path)]));
      for (const snippet of runnable) {
        // Its own working directory: relative paths in the block (./.data/…) land there.
        const cwd = join(dir, `run-${snippet.where.replace(/\W+/g, "-")}`);
        await mkdir(cwd, { recursive: true });
        const env = {
          JITI_ALIAS: JSON.stringify(alias),
          S3_ENDPOINT: s3.endpoint, S3_BUCKET: s3.bucket, S3_REGION: s3.region, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        };
        const result = await run(process.execPath, [join(ROOT, "node_modules/jiti/lib/jiti-cli.mjs"), snippet.file], { cwd, env });
        expect(result.code, `${snippet.where}:\n${result.output}`).toBe(0);
        // Each `// prints:` line, in order, as a whole output line.
        let from = 0;
        const lines = result.output.split("\n").map((l) => l.trim());
        for (const expected of snippet.prints) {
          const at = lines.indexOf(expected, from);
          expect(at, `${snippet.where} should print "${expected}" (after line ${from}):\n${result.output}`).toBeGreaterThanOrEqual(0);
          from = at + 1;
        }
      }
      // The Quick start transfers its upload: the bytes are on s3rver afterwards.
      expect(await standInS3(s3).getItem("avatars:42.png", {})).toBe("a picture's bytes");
    }, 120_000);
  });
});
