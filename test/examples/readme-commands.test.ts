import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./_aliases.ts";

// Every example has a README whose shell blocks hold exact commands: each command is checked against the repository
// (the folder a `cd` goes to exists, `npm run X` is a script of the package.json there, `deno task X` a task of its
// deno.json, a file given to jiti/node/deno exists, a curl URL's route is one the example serves); a program this test
// does not know fails it, so a new kind of command gets a rule here. The commands the example tests run are the
// README's (checked literally), and `npm start` (the demo) runs here. A command commented "# at the repository root"
// (or "from the repository root") runs there, wherever an earlier `cd` went.

const EXAMPLES = readdirSync(join(ROOT, "examples"), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

/** How each example's test starts it: the README must say exactly that. */
const STARTED_BY_TESTS: Record<string, string> = {
  demo: "npm ci && npm start",
  node: "JITI_TSCONFIG_PATHS=1 npx jiti examples/node/server.ts",
  serve: "UPLOAD_TOKEN=a-long-random-token JITI_TSCONFIG_PATHS=1 npx jiti examples/serve/server.ts",
  "deno-deploy": "deno task start",
  nitro: "npm run build",
  nitro3: "npm run build",
  "cloudflare-worker": "npm run dev",
};

/** The commands of every ```sh block: continuation lines joined, comments dropped, `a && b` split. */
export function shellCommands(markdown: string): string[][] {
  const blocks: string[][] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(sh|bash|shell)\s*$/.test(lines[i]!)) continue;
    const block: string[] = [];
    let current = "";
    while (++i < lines.length && lines[i] !== "```") {
      // "# at the repository root" (or "from …"): the command runs there, wherever an earlier `cd` went.
      const atRoot = /#.*repository root/.test(lines[i]!) ? "cd <root> && " : "";
      const line = atRoot + lines[i]!.replace(/\s+#\s.*$/, "");
      if (line.endsWith("\\")) {
        current += `${line.slice(0, -1)} `;
        continue;
      }
      const whole = (current + line).trim();
      current = "";
      if (whole) block.push(...whole.split(/\s*&&\s*/));
    }
    blocks.push(block);
  }
  return blocks;
}

function readJson(path: string): Record<string, any> | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, any>) : undefined;
}

/** Why `command` (run in `cwd`) does not fit the repository, or undefined when it does; `cwd` after it. */
function check(example: string, command: string, cwd: string): { problem?: string; cwd: string } {
  const words = command.replace(/^for \w+ in .*?; do (.*?); done$/, "$1").split(/\s+/);
  while (words.length && /^[A-Z][A-Z0-9_]*=/.test(words[0]!)) words.shift(); // VAR=value prefixes
  const [program, ...args] = words;
  const pkg = readJson(join(cwd, "package.json"));
  const where = relative(ROOT, cwd) || ".";
  const exists = (file: string): boolean => existsSync(resolve(cwd, file));
  const source = (): string =>
    readdirSync(join(ROOT, "examples", example), { recursive: true, encoding: "utf8" })
      .filter((f) => /\.(ts|mjs|js|toml|json)$/.test(f) && !f.includes("node_modules"))
      .map((f) => readFileSync(join(ROOT, "examples", example, f), "utf8"))
      .join("\n");
  switch (program) {
    case "cd":
      if (args[0] === "<root>") return { cwd: ROOT };
      return exists(args[0]!) ? { cwd: resolve(cwd, args[0]!) } : { problem: `no folder ${args[0]} in ${where}`, cwd };
    case "npm": {
      const [sub, ...rest] = args;
      if (!pkg) return { problem: `no package.json in ${where}`, cwd };
      if (sub === "ci") return exists("package-lock.json") ? { cwd } : { problem: `npm ci without a package-lock.json in ${where}`, cwd };
      if (sub === "install" && rest.length === 0) return { cwd };
      if (sub === "i" || sub === "install") {
        if (rest.includes("queued-storage")) return { problem: "`npm i queued-storage`: nothing is published yet", cwd };
        if (!rest.some((r) => r.endsWith(".tgz"))) return { problem: `npm i of ${rest.join(" ")}: only the npm pack tarball is documented`, cwd };
        return { cwd: join(ROOT, "examples", example) }; // "your project": the example's files copied next to it
      }
      const script = sub === "run" ? rest[0]! : sub!;
      if (["start", "test", "run"].includes(sub!) && pkg.scripts?.[script]) return { cwd };
      return { problem: `npm ${args.join(" ")}: no script "${script}" in ${where}/package.json`, cwd };
    }
    case "npx": {
      const [tool, ...rest] = args;
      const file = rest.find((r) => /\.(ts|mjs|js)$/.test(r));
      if (tool === "jiti" || (tool === "deno" && rest[0] === "check")) {
        return file && exists(file) ? { cwd } : { problem: `npx ${args.join(" ")}: no file ${file} in ${where}`, cwd };
      }
      if (tool === "wrangler") {
        const deps = { ...pkg?.dependencies, ...pkg?.devDependencies };
        return deps.wrangler ? { cwd } : { problem: `npx wrangler: not a dependency in ${where}`, cwd };
      }
      return { problem: `npx ${tool}: no rule for it in this test`, cwd };
    }
    case "deno": {
      if (args[0] === "task") {
        const tasks = readJson(join(cwd, "deno.json"))?.tasks ?? {};
        return tasks[args[1]!] ? { cwd } : { problem: `deno task ${args[1]}: no such task in ${where}/deno.json`, cwd };
      }
      if (args[0] === "install") return { cwd }; // installs deployctl (Deploy section)
      return { problem: `deno ${args[0]}: no rule for it in this test`, cwd };
    }
    case "deployctl":
      return args.some((a) => a === "--entrypoint=main.ts") && exists("main.ts") ? { cwd } : { problem: `deployctl: entrypoint missing in ${where}`, cwd };
    case "node": {
      const file = args.find((a) => /\.(ts|mjs|js)$/.test(a));
      return file && (file.includes(".output/") || exists(file)) ? { cwd } : { problem: `node ${file}: no such file in ${where}`, cwd };
    }
    case "curl": {
      const url = args.find((a) => /^https?:\/\//.test(a));
      if (!url) return { problem: `curl without a URL: ${command}`, cwd };
      const route = new URL(url).pathname.split("/")[1];
      return route && source().includes(`/${route}`) ? { cwd } : { problem: `curl ${url}: examples/${example} serves no /${route}`, cwd };
    }
    default:
      return { problem: `no rule for \`${program}\` in this test: ${command}`, cwd };
  }
}

describe("every example has a README with exact commands", () => {
  it("the examples are the ones this test knows", () => {
    expect(EXAMPLES.sort()).toEqual(Object.keys(STARTED_BY_TESTS).sort());
  });

  for (const example of EXAMPLES) {
    it(`examples/${example}/README.md: every command fits the repository, and it says how its test starts it`, () => {
      const path = join(ROOT, "examples", example, "README.md");
      expect(existsSync(path), `examples/${example} has no README.md`).toBe(true);
      const markdown = readFileSync(path, "utf8");
      const blocks = shellCommands(markdown);
      expect(blocks.flat().length, "no shell commands").toBeGreaterThan(0);
      const problems: string[] = [];
      let cwd = ROOT;
      for (const block of blocks) {
        for (const command of block) {
          const result = check(example, command, cwd);
          if (result.problem) problems.push(result.problem);
          cwd = result.cwd;
        }
      }
      expect(problems).toEqual([]);
      expect(blocks.flat().join("\n")).toContain(STARTED_BY_TESTS[example]!.split(" && ").at(-1)!);
      expect(markdown).toContain(STARTED_BY_TESTS[example]!);
    });
  }

  it("the root README holds the two commands literally and installs nothing that is not published", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm ci && npm test");
    expect(readme).not.toMatch(/npm i(nstall)? queued-storage\b/);
  });

  it("`npm start` (examples/demo): every read right after a write is served from the local tier", async () => {
    const output = await new Promise<string>((resolvePromise, reject) =>
      execFile("npm", ["start"], { cwd: ROOT, timeout: 120_000, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: "1" } }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolvePromise(stdout),
      ),
    );
    const reads = output.split("\n").filter((line) => line.includes("read right away:"));
    expect(reads, output).toHaveLength(5);
    for (const line of reads) expect(line).toMatch(/served from local /);
    expect(output).toContain("streamed videos:big.bin back from the remote: 48.0 MiB");
  }, 120_000);
});
