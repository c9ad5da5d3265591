import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Every relative link of the README, docs/**, bench/README.md and the examples' READMEs leads somewhere: the file or
// folder exists, and a #fragment names a heading of the Markdown file it points to (GitHub's anchor rules).

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Written on another branch (the operations guide); a link to it is checked once it exists. */
const PENDING = new Set(["docs/6.operations.md"]);

const files = [
  "README.md",
  "bench/README.md",
  ...readdirSync(join(ROOT, "docs"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`),
  ...readdirSync(join(ROOT, "examples")).filter((d) => existsSync(join(ROOT, "examples", d, "README.md"))).map((d) => `examples/${d}/README.md`),
];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[^\p{L}\p{N}\- _]/gu, "")
    .replace(/ /g, "-");
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (heading) anchors.add(slug(heading[1]!));
  }
  return anchors;
}

/** Links outside code: `[text](target)`. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

describe("docs: every relative link resolves", () => {
  for (const file of files) {
    it(file, () => {
      const markdown = readFileSync(join(ROOT, file), "utf8");
      const broken: string[] = [];
      for (const link of linksOf(markdown)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // http:, https:, mailto:
        const [path, fragment] = link.split("#") as [string, string | undefined];
        const target = path ? resolve(dirname(join(ROOT, file)), decodeURIComponent(path)) : join(ROOT, file);
        const name = relative(ROOT, target);
        if (!existsSync(target)) {
          if (!PENDING.has(name)) broken.push(`${link}: no ${name}`);
          continue;
        }
        if (fragment && statSync(target).isFile() && target.endsWith(".md") && !anchorsOf(readFileSync(target, "utf8")).has(fragment)) {
          broken.push(`${link}: no heading #${fragment} in ${name}`);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});
