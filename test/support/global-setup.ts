import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { freePort } from "./ports.ts";
import { requireRedis } from "./redis.ts";

// vitest's globalSetup (vitest.config.ts), once per run before any worker starts:
// - Redis: the tests use REDIS_URL (default redis://127.0.0.1:6379). When REDIS_URL is unset and nothing answers
//   there, a `redis-server` on a free loopback port is started for the run (when the binary is installed; the
//   pretest step, test/support/ensure-services.mjs, installs it where it can) and REDIS_URL points the workers at it.
// - Children: every process the run starts inherits QUEUED_STORAGE_TEST_RUN; at the end, any that is still alive
//   (a child a test failed to stop, a grandchild orphaned by a wrapper) is killed and named on stderr.

const RUN_VAR = "QUEUED_STORAGE_TEST_RUN";

export default async function setup(): Promise<() => Promise<void>> {
  const run = (process.env[RUN_VAR] ??= randomBytes(6).toString("hex"));
  const redis = await ensureRedis();
  return async () => {
    if (redis) await stop(redis);
    reap(run);
  };
}

async function ensureRedis(): Promise<ChildProcess | undefined> {
  if (process.env.REDIS_URL) return undefined; // honoured as given: a test that needs it fails naming it if it is down
  // QUEUED_STORAGE_TEST_START_REDIS=1: a redis-server of the run's own even when 6379 answers (what a fresh machine does).
  const own = process.env.QUEUED_STORAGE_TEST_START_REDIS === "1";
  if (!own && (await requireRedis("redis://127.0.0.1:6379").then(() => true, () => false))) return undefined;
  const binary = ["redis-server", "/usr/bin/redis-server", "/usr/local/bin/redis-server"].find(
    (candidate) => spawnSync(candidate, ["--version"], { stdio: "ignore" }).status === 0,
  );
  if (!binary) {
    console.error("[global-setup] no Redis at redis://127.0.0.1:6379 and no redis-server installed: the Redis tests will fail saying so");
    return undefined;
  }
  const port = await freePort();
  const child = spawn(binary, ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (await requireRedis(url).then(() => true, () => false)) break;
    if (attempt > 100 || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`[global-setup] ${binary} did not answer on ${url} within 10 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.error(`[global-setup] started ${binary} for this run at ${url}`);
  process.env.REDIS_URL = url;
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** Kill every process of this run that is still alive (Linux: found by the variable in /proc/<pid>/environ). */
function reap(run: string): void {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return; // no procfs: nothing to look through
  }
  const marker = `${RUN_VAR}=${run}`;
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    let environ: string;
    let cmdline: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "latin1");
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ").trim();
    } catch {
      continue;
    }
    if (!environ.split("\0").includes(marker) || cmdline.includes("vitest")) continue;
    console.error(`[global-setup] killing a child the tests left running: ${pid} ${cmdline.slice(0, 200)}`);
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}
