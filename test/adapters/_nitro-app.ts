import type { ChildProcess } from "node:child_process";
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnChild, stopChild } from "../support/children.ts";
import { freePort } from "../support/ports.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface BuiltNitroApp {
  dir: string;
  /** Milliseconds the Nitro build took. */
  buildMs: number;
  remove(): Promise<void>;
}

/** Which Nitro builds the app: nitropack 2 builds `examples/nitro`, nitro 3 builds `examples/nitro3`. */
export type NitroMajor = "nitropack 2" | "nitro 3";

/**
 * Copy the example of `major` to a temp directory under `.tmp/` (inside the repository, so the example's own imports
 * such as `nitro/h3` resolve from this repository's node_modules) and build it with that Nitro's programmatic API
 * (preset node-server). The app names the module `"queued-storage/nitro"` as a user would; an alias points it at this
 * repository's source (or at `module`, e.g. the built `dist/adapters/nitro.mjs`).
 */
export async function buildNitroExample(
  major: NitroMajor = "nitropack 2",
  module: string = join(ROOT, "src/adapters/nitro/index.ts"),
  /** Config merged over the example's nitro.config.ts (e.g. a runtimeConfig.queuedStorage key). */
  overrides: Record<string, unknown> = {},
): Promise<BuiltNitroApp> {
  // The two builders have the same four functions; typed as nitropack's (the configs given here fit both).
  const builder = (major === "nitro 3" ? await import("nitro") : await import("nitropack")) as typeof import("nitropack");
  const { build, copyPublicAssets, createNitro, prepare } = builder;
  await mkdir(join(ROOT, ".tmp"), { recursive: true });
  const dir = await mkdtemp(join(ROOT, ".tmp", "nitro-"));
  await cp(join(ROOT, major === "nitro 3" ? "examples/nitro3" : "examples/nitro"), dir, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|\.output|\.nitro|\.data)([/\\]|$)/.test(source),
  });
  const started = Date.now();
  const nitro = await createNitro({
    rootDir: dir,
    dev: false,
    preset: "node-server",
    logLevel: 1,
    alias: { "queued-storage/nitro": module },
    ...overrides,
  } as never);
  try {
    await prepare(nitro);
    await copyPublicAssets(nitro);
    await build(nitro);
  } finally {
    await nitro.close();
  }
  return { dir, buildMs: Date.now() - started, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface RunningServer {
  origin: string;
  output(): string;
  stop(): Promise<void>;
}

/** Start `.output/server/index.mjs` (with the `node` binary given) on a free loopback port with `env(origin)`; resolves once it answers HTTP. */
export async function startNitroServer(
  dir: string,
  env: (origin: string) => Record<string, string>,
  node: string = process.execPath,
): Promise<RunningServer> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawnChild(node, [join(dir, ".output/server/index.mjs")], {
    cwd: dir,
    env: { ...process.env, ...env(origin), PORT: String(port), HOST: "127.0.0.1", NITRO_HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (text: string) => (output += text));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (output += text));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`the built Nitro server exited with ${child.exitCode}:\n${output}`);
    try {
      await fetch(`${origin}/`);
      break;
    } catch {
      if (attempt > 100) throw new Error(`the built Nitro server did not answer within 10 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    origin,
    output: () => output,
    async stop() {
      await stopChild(child);
      await exited;
    },
  };
}

/** What the built examples read from env: the S3 stand-in as remote, QStash and Upstash stand-ins, local base in `dir`. */
export interface NitroServices {
  s3: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string };
  qstash: { url: string; token: string; currentSigningKey: string; nextSigningKey: string };
  upstash: { url: string; token: string };
}

/** The NITRO_QUEUED_STORAGE_* env of a built example served at `origin`, its webhook at the module's default route. */
export function nitroEnv(dir: string, origin: string, { s3, qstash, upstash }: NitroServices, prefix: string): Record<string, string> {
  return {
    NITRO_QUEUED_STORAGE_LOCAL_BASE: `${dir}/.data/uploads`,
    NITRO_QUEUED_STORAGE_REMOTE_ENDPOINT: s3.endpoint,
    NITRO_QUEUED_STORAGE_REMOTE_BUCKET: s3.bucket,
    NITRO_QUEUED_STORAGE_REMOTE_REGION: s3.region,
    NITRO_QUEUED_STORAGE_REMOTE_ACCESS_KEY_ID: s3.accessKeyId,
    NITRO_QUEUED_STORAGE_REMOTE_SECRET_ACCESS_KEY: s3.secretAccessKey,
    NITRO_QUEUED_STORAGE_QSTASH_URL: `${origin}/_queued-storage/transfer`,
    NITRO_QUEUED_STORAGE_QSTASH_TOKEN: qstash.token,
    NITRO_QUEUED_STORAGE_QSTASH_BASE_URL: qstash.url,
    NITRO_QUEUED_STORAGE_QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
    NITRO_QUEUED_STORAGE_QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
    NITRO_QUEUED_STORAGE_UPSTASH_URL: upstash.url,
    NITRO_QUEUED_STORAGE_UPSTASH_TOKEN: upstash.token,
    NITRO_QUEUED_STORAGE_UPSTASH_PREFIX: prefix,
  };
}
