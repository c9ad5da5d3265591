import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStash, type QStashStandIn } from "../support/qstash-server.ts";
import { requireRedis } from "../support/redis.ts";
import { standInS3, startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { startUpstashProxy, type UpstashProxy } from "../support/upstash-proxy.ts";
import { DENO, spawnChild, stopChild } from "../support/children.ts";
import { freePort } from "../support/ports.ts";
import { ROOT } from "./_aliases.ts";
import { servicesEnv } from "./_services.ts";

// examples/deno-deploy type-checked and served by the real Deno binary. The root deno.json makes the example a
// workspace member, so its `jsr:@queued-storage/core` import resolves to this repository's source, offline.

function runDeno(args: string[], env: Record<string, string> = {}, cwd: string = ROOT): ChildProcess {
  // Its own process group: `deno task` starts deno again, and stopping the server must stop that one too.
  return spawnChild(DENO, args, { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
}

describe("examples/deno-deploy on Deno", () => {
  let s3: S3rverHandle;
  let upstash: UpstashProxy;
  let qstash: QStashStandIn;
  let server: ChildProcess | undefined;
  let dataDir: string;
  let output = "";

  beforeAll(async () => {
    await requireRedis();
    [s3, upstash, qstash] = await Promise.all([startS3rver({ bucket: "deno-archive" }), startUpstashProxy(), startQStash()]);
    dataDir = await mkdtemp(join(tmpdir(), "queued-storage-example-deno-"));
  }, 30_000);

  afterAll(async () => {
    if (server) await stopChild(server);
    await Promise.all([s3?.stop(), upstash?.stop(), qstash?.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  it("deno check main.ts passes", async () => {
    const check = runDeno(["check", "--no-lock", "examples/deno-deploy/main.ts"]);
    let text = "";
    check.stdout!.on("data", (b: Buffer) => (text += b));
    check.stderr!.on("data", (b: Buffer) => (text += b));
    const code = await new Promise<number | null>((resolve) => check.once("exit", resolve));
    expect(code, text).toBe(0);
  }, 60_000);

  it("`deno task start` (the README's command) serves uploads with S3, QStash and Upstash: QStash calls the Deno webhook and the bytes reach S3", async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const env = { PORT: String(port), DATA_DIR: dataDir, PUBLIC_URL: origin, ...servicesEnv(s3, qstash, upstash) };
    server = runDeno(["task", "start"], env, join(ROOT, "examples/deno-deploy"));
    server.stdout!.setEncoding("utf8").on("data", (text: string) => (output += text));
    server.stderr!.setEncoding("utf8").on("data", (text: string) => (output += text));
    for (let attempt = 0; !/Listening on/.test(output); attempt++) {
      if (server.exitCode !== null || attempt > 300) throw new Error(`examples/deno-deploy did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const bytes = new Uint8Array(250_000).map((_, i) => (i * 29) & 0xff);
    const put = await fetch(`${origin}/files/docs/manual.pdf`, { method: "PUT", body: bytes });
    expect(put.status, `${await put.clone().text()}\n${output}`).toBe(201);
    await qstash.idle();
    expect(qstash.deliveries.map((d) => [new URL(d.url).pathname, d.status])).toEqual([["/_queued-storage/transfer", 200]]);
    const remote = standInS3(s3);
    expect(Buffer.compare((await remote.getItemRaw!("docs:manual.pdf", {})) as Uint8Array, bytes)).toBe(0);
    const get = await fetch(`${origin}/files/docs/manual.pdf`);
    expect(get.headers.get("x-queued-state")).toBe("remote");
    expect(Buffer.compare(Buffer.from(await get.arrayBuffer()), bytes)).toBe(0);
    expect(upstash.requests.length, "the state went through Upstash").toBeGreaterThan(0);
  }, 60_000);
});
