import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// docs/8.api.md lists every subpath of package.json's `exports` and every name each entry file exports: derived from
// the source with the TypeScript checker, so a new export (or subpath) without a line there fails here.

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Subpath → source entry, from build.config.ts's entries (dist name → src file) and package.json's exports. */
async function entries(): Promise<Record<string, string>> {
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, { default?: string } | string> };
  const build = await readFile(join(ROOT, "build.config.ts"), "utf8");
  const sources = new Map([...build.matchAll(/\{ input: "([^"]+)", name: "([^"]+)" \}/g)].map((m) => [m[2]!, m[1]!]));
  const out: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === "string") continue; // ./package.json
    const dist = /^\.\/dist\/(.+)\.mjs$/.exec(target.default!)![1]!;
    out[subpath === "." ? "queued-storage" : `queued-storage${subpath.slice(1)}`] = `${sources.get(dist)}.ts`;
  }
  return out;
}

describe("docs/8.api.md: the API reference", async () => {
  const map = await entries();
  const page = await readFile(join(ROOT, "docs/8.api.md"), "utf8");
  const program = ts.createProgram(Object.values(map).map((f) => join(ROOT, f)), {
    allowImportingTsExtensions: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true,
  });
  const checker = program.getTypeChecker();

  it("covers every subpath of package.json's exports, queued-storage/node-fetch included", () => {
    expect(Object.keys(map)).toContain("queued-storage/node-fetch");
    for (const subpath of Object.keys(map)) expect(page, subpath).toContain(`\n## \`${subpath}\`\n`);
  });

  for (const [subpath, file] of Object.entries(map)) {
    it(`${subpath}: every export of ${file} has its line`, () => {
      const start = page.indexOf(`\n## \`${subpath}\`\n`);
      const end = page.indexOf("\n## ", start + 1);
      const section = page.slice(start, end === -1 ? undefined : end);
      const source = program.getSourceFile(join(ROOT, file))!;
      const names = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).map((s) => s.name);
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((name) => !section.includes(`| \`${name}\` |`))).toEqual([]);
    });
  }
});
