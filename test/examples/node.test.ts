import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnChild, stopChild } from "../support/children.ts";
import { ROOT } from "./_aliases.ts";

// examples/node/server.ts started as its README says (jiti), hit once per route.
describe("examples/node: the upload server", () => {
  let child: ChildProcess;
  let dataDir: string;
  let origin: string;
  let output = "";

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "queued-storage-example-node-"));
    child = spawnChild(join(ROOT, "node_modules/.bin/jiti"), [join(ROOT, "examples/node/server.ts")], {
      cwd: ROOT,
      // As the README says: tsconfig.json "paths" map the package name to ./src.
      env: { ...process.env, PORT: "0", DATA_DIR: dataDir, JITI_TSCONFIG_PATHS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.setEncoding("utf8").on("data", (text: string) => (output += text));
    child.stderr!.setEncoding("utf8").on("data", (text: string) => (output += text));
    origin = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`examples/node did not start within 20 s:\n${output}`)), 20_000);
      child.stdout!.on("data", () => {
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once("exit", (code) => reject(new Error(`examples/node exited with ${code}:\n${output}`)));
    });
  }, 30_000);

  afterAll(async () => {
    if (child) await stopChild(child);
    await rm(dataDir, { recursive: true, force: true });
  });

  it("PUT stores the upload, the transfer reaches the remote directory, GET and /status answer", async () => {
    const bytes = new Uint8Array(1_000_000).map((_, i) => (i * 31) & 0xff);
    const put = await fetch(`${origin}/files/reports/2025/q1.pdf`, { method: "PUT", body: bytes });
    expect(put.status, output).toBe(201);
    expect((await put.json()).key).toBe("reports:2025:q1.pdf");
    let state = "";
    for (let i = 0; i < 100 && state !== "remote"; i++) {
      state = ((await (await fetch(`${origin}/status/reports/2025/q1.pdf`)).json()) as { state: string }).state;
      if (state !== "remote") await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(state).toBe("remote");
    expect(Buffer.compare(await readFile(join(dataDir, "remote/reports/2025/q1.pdf")), bytes)).toBe(0);
    const get = await fetch(`${origin}/files/reports/2025/q1.pdf`);
    expect(get.headers.get("x-queued-state")).toBe("remote");
    expect(Buffer.compare(Buffer.from(await get.arrayBuffer()), bytes)).toBe(0);
    expect((await fetch(`${origin}/files/missing`)).status).toBe(404);
    expect(output).toContain("transferred reports:2025:q1.pdf");
  });
});
