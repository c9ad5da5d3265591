import { readFile } from "node:fs/promises";

/** One ```ts block of a Markdown file. */
export interface Snippet {
  /** `README.md:62`: the file and the line of the opening fence. */
  where: string;
  code: string;
  /** The path named by a first-line comment (`// server/api/x.ts`): the block is that file of an app or project. */
  path?: string;
  /** A Nitro/Nuxt server file or config: it may use their auto-imports. */
  app: boolean;
  /** The info string says `run`: the block is a complete program and the test executes it. */
  run: boolean;
  /** The first line says `// fragment`: deliberately not a program, only listed. */
  fragment: boolean;
  /** The `## ` heading the block sits under (`"Nuxt"`), or `""` before the first one. */
  section: string;
  /** What a `run` block must print, in order: the text after each `// prints:` comment. */
  prints: string[];
}

const FENCE = /^```ts(?:\s+(.*))?$/;
const APP_PATH = /^(routes|server|api|plugins)\/|^(nitro|nuxt)\.config\.ts$/;

/** Every ```ts block of `file` (path relative to the repository root), in order. */
export async function snippetsOf(root: string, file: string): Promise<Snippet[]> {
  const lines = (await readFile(`${root}/${file}`, "utf8")).split("\n");
  const snippets: Snippet[] = [];
  let section = "";
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.startsWith("```") && !FENCE.test(lines[i]!)) fenced = !fenced;
    if (!fenced && lines[i]!.startsWith("## ")) section = lines[i]!.slice(3).trim();
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && lines[i] !== "```") body.push(lines[i]!);
    const first = body[0] ?? "";
    const path = /^\/\/ ([\w./[\]-]+\.ts)\b/.exec(first)?.[1];
    snippets.push({
      where: `${file}:${start + 1}`,
      code: body.join("\n") + "\n",
      path,
      app: path !== undefined && APP_PATH.test(path),
      run: (open[1] ?? "").split(/\s+/).includes("run"),
      fragment: /^\/\/ fragment\b/.test(first),
      section,
      prints: body.flatMap((line) => /\/\/ prints: (.*)$/.exec(line)?.[1]?.trim() ?? []),
    });
  }
  return snippets;
}
