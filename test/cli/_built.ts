import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface BuiltPackage {
  /** A directory under .tmp/ whose node_modules/queued-storage is the built package (configs there import it). */
  dir: string;
  /** `node node_modules/queued-storage/dist/cli.mjs …args` in `cwd`, as `npx queued-storage` would run it. */
  cli(cwd: string, args: string[], env?: Record<string, string>): Promise<CliRun>;
  remove(): Promise<void>;
}

/**
 * `unbuild` into `<dir>/node_modules/queued-storage/dist` (its own copy: never racing another test's build of dist/),
 * with the package.json beside it, inside the repository so that its dependencies resolve from its node_modules.
 */
export async function buildPackage(): Promise<BuiltPackage> {
  await mkdir(join(ROOT, ".tmp"), { recursive: true });
  const dir = await mkdtemp(join(ROOT, ".tmp", "cli-"));
  const pkg = join(dir, "node_modules/queued-storage");
  await mkdir(pkg, { recursive: true });
  const build = await run(process.execPath, [join(ROOT, "node_modules/unbuild/dist/cli.mjs")], ROOT, { QUEUED_STORAGE_OUT_DIR: join(pkg, "dist") }, 600_000);
  if (build.code !== 0) throw new Error(`unbuild failed:\n${build.stdout}\n${build.stderr}`);
  await writeFile(join(pkg, "package.json"), await readFile(join(ROOT, "package.json"), "utf8"));
  // A package scope of its own: without it, configs here resolve `queued-storage` as the repository's self-reference
  // (its dist/, absent on a fresh clone) instead of this copy in node_modules.
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "queued-storage-cli-test", private: true, type: "module" }));
  const bin = JSON.parse(await readFile(join(pkg, "package.json"), "utf8")).bin["queued-storage"] as string;
  return {
    dir,
    cli: (cwd, args, env = {}) => run(process.execPath, [join(pkg, bin), ...args], cwd, { NO_COLOR: "1", UPSTASH_DISABLE_TELEMETRY: "1", ...env }),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Copy a fixture directory of test/cli/fixtures into the package's directory. */
export async function fixture(built: BuiltPackage, name: string): Promise<string> {
  const target = join(built.dir, name);
  await cp(join(ROOT, "test/cli/fixtures", name), target, { recursive: true });
  return target;
}

function run(command: string, args: string[], cwd: string, env: Record<string, string>, timeout = 60_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout, env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
