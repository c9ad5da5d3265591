import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import fsDriver from "../../src/drivers/fs/index.ts";
import { afterAll, describe, expect, it } from "vitest";
import { createQueuedStorage, memoryQueue, storageFlags, type FailedEvent } from "../../src/index.ts";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/**
 * Spawn `script` (under jiti) and hand each JSON line of its stdout to `onEvent` (a `done` line is skipped), which
 * calls `kill()` to SIGKILL the child at the moment it chose. Resolves once the child died of that kill; rejects
 * naming `what()` and its stderr when it exited on its own.
 */
function killWhen(script: string, args: string[], what: () => string, onEvent: (event: unknown, kill: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "jiti/register", script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let killed = false;
    const kill = (): void => {
      if (killed) return;
      killed = true;
      child.kill("SIGKILL");
    };
    child.stderr.on("data", (chunk) => (stderr += chunk));
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line !== "done") onEvent(JSON.parse(line), kill);
    });
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL" && killed) resolve();
      else reject(new Error(`${what()} exited with ${code} before it was killed: ${stderr}`));
    });
  });
}

/** Run the writer child until it has acknowledged `afterWrites` writes and then starts an upload; SIGKILL it then. */
async function runAndKill(dir: string, afterWrites: number): Promise<{ acked: Map<string, string>; uploading: string }> {
  const acked = new Map<string, string>();
  let writes = 0;
  let uploading = "";
  await killWhen("test/support/crash-child.ts", [dir, "200"], () => `writer (acks: ${acked.size})`, (line, kill) => {
    const event = line as { key: string; value: string } | { upload: string };
    if (uploading) return;
    if (!("upload" in event)) {
      acked.set(event.key, event.value);
      writes++;
    } else if (writes >= afterWrites) {
      uploading = event.upload;
      kill();
    }
  });
  return { acked, uploading };
}

describe("crash recovery", () => {
  it("a process killed with SIGKILL mid-transfer loses nothing acknowledged; sync() in a new process finishes it all", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qs-crash-"));
    dirs.push(dir);
    const { acked, uploading } = await runAndKill(dir, 30);
    // Overwrites happened before the kill (keys wrap at 25), so recovery must also pick the latest values.
    expect(acked.size).toBe(25);

    const flags = storageFlags(fsDriver({ base: `${dir}/state` }));
    const interrupted = await flags.pending();
    console.log(`[crash] killed while uploading ${uploading}; states: ${JSON.stringify(interrupted.map(([k, r]) => `${k}=${r.state}`))}`);
    // The kill must have landed in the middle of transfers, or this test proves nothing.
    expect(interrupted.find(([key]) => key === uploading)?.[1].state).toBe("transferring");
    expect(interrupted.some(([, record]) => record.state === "queued")).toBe(true);

    const remote = fsDriver({ base: `${dir}/remote` });
    const storage = createQueuedStorage({
      local: fsDriver({ base: `${dir}/local` }),
      remote,
      flags,
      queue: memoryQueue({ concurrency: 4 }),
      leaseMs: 1500,
    });
    // A write the child had begun but not acknowledged when it died may show; nothing older than the last ack may.
    const indexOf = (value: unknown): number => Number(String(value).split(" ")[1]);
    const atLeastAcked = async (key: string, value: string): Promise<unknown> => {
      const got = await storage.getItem(key);
      expect(indexOf(got), `${key}: read ${String(got).slice(0, 12)}…, acked ${value.slice(0, 12)}…`).toBeGreaterThanOrEqual(indexOf(value));
      return got;
    };
    // Before recovery every acknowledged write is already readable.
    for (const [key, value] of acked) await atLeastAcked(key, value);
    // A write killed between its intent and its local write left a ghost; sync() drops those once older than a lease
    // (younger ones could be writes still running): let every record age past it first.
    const newest = Math.max(...interrupted.map(([, record]) => record.generation / 1000));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, newest + 1500 + 50 - Date.now())));
    const report = await storage.sync();
    expect(report.queued + report.dropped).toBe(interrupted.length);
    await storage.drain();
    for (const [key, value] of acked) {
      const got = await atLeastAcked(key, value);
      expect((await storage.status(key))?.state).toBe("remote");
      expect(await remote.getItem(key, {})).toBe(got);
    }
    expect(await flags.pending()).toEqual([]);
    await storage.dispose();
  }, 60_000);
});

/** Run the ghost child until the local write of "ghost" has begun; SIGKILL it then. Resolves to the acknowledged keys. */
async function killBetweenIntentAndWrite(dir: string): Promise<string[]> {
  const acked: string[] = [];
  await killWhen("test/support/ghost-child.ts", [dir], () => `ghost child (acks: ${acked.length})`, (line, kill) => {
    const event = line as { acked?: string; putting?: string };
    if (event.acked) acked.push(event.acked);
    if (event.putting) kill();
  });
  return acked;
}

describe("crash between a write's intent and its local write", () => {
  it("leaves a ghost record that sync() recognises and drops: nothing re-queued, failed or reported", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qs-ghost-"));
    dirs.push(dir);
    const acked = await killBetweenIntentAndWrite(dir);
    expect(acked).toEqual(["a", "b"]);
    const flags = storageFlags(fsDriver({ base: `${dir}/state` }));
    // The kill landed where it should: the intent of "ghost" is recorded, its bytes are nowhere.
    const ghost = (await flags.pending()).find(([key]) => key === "ghost")?.[1];
    expect(ghost).toMatchObject({ state: "queued", attempts: 0 });
    expect(await fsDriver({ base: `${dir}/local` }).hasItem("ghost", {})).toBe(false);

    const failed: FailedEvent[] = [];
    const leaseMs = 200;
    const storage = createQueuedStorage({
      local: fsDriver({ base: `${dir}/local` }),
      remote: fsDriver({ base: `${dir}/remote` }),
      flags,
      leaseMs,
      onFailed: (event) => void failed.push(event),
    });
    // A record younger than a lease may still be a write in progress: let the ghost age past that first.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, ghost!.generation / 1000 + leaseMs + 50 - Date.now())));
    expect(await storage.sync()).toEqual({ queued: 0, removed: 0, waiting: 0, dropped: 1 });
    await storage.drain();
    expect(await storage.status("ghost")).toBeNull();
    expect(await storage.getItem("ghost")).toBeNull();
    expect((await storage.getKeys()).sort()).toEqual(["a", "b"]);
    expect(await storage.sync()).toEqual({ queued: 0, removed: 0, waiting: 0, dropped: 0 });
    expect(failed).toEqual([]);
    for (const key of acked) expect(await storage.status(key)).toMatchObject({ state: "remote" });
    await storage.dispose();
  }, 60_000);
});
