import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import memoryDriver from "unstorage/drivers/memory";
import { afterAll, describe, expect, it } from "vitest";
import fsDriver from "../../src/drivers/fs/index.ts";
import { storageFlags } from "../../src/index.ts";

// Issue 20, class 5: storageFlags keeps its locks in one process's memory, so a second live instance over the same
// state must be refused (naming upstashFlags), never silently interleaved; a crashed owner must not lock out a restart.

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "qs-flags-proc-"));
  dirs.push(dir);
  return dir;
};

interface ChildRun {
  lines: Array<{ generation?: number; error?: string; done?: boolean }>;
  done: Promise<void>;
  exited: Promise<void>;
  child: ChildProcess;
}

function runChild(dir: string, count: number, hold = false): ChildRun {
  const script = join(import.meta.dirname, "../support/flags-child.ts");
  const args = ["--import", "jiti/register", script, dir, String(count), ...(hold ? ["hold"] : [])];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const lines: ChildRun["lines"] = [];
  let markDone!: () => void;
  const done = new Promise<void>((resolve) => (markDone = resolve));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const event = JSON.parse(line) as ChildRun["lines"][number];
    lines.push(event);
    if (event.done) markDone();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { lines, done, exited, child };
}

describe("storageFlags shared by two instances (issue 20)", () => {
  it("two processes over one state directory: one owns it, the other is refused at its first write naming upstashFlags", async () => {
    const dir = await tempDir();
    const [a, b] = [runChild(dir, 300), runChild(dir, 300)];
    await Promise.all([a.done, b.done, a.exited, b.exited]);
    const [winner, loser] = a.lines.some((line) => line.error) ? [b, a] : [a, b];
    const generations = winner.lines.filter((line) => line.generation !== undefined).map((line) => line.generation!);
    expect(generations).toHaveLength(300);
    expect(generations.every((generation, i) => i === 0 || generation > generations[i - 1]!)).toBe(true);
    expect(loser.lines.filter((line) => line.generation !== undefined)).toEqual([]);
    expect(loser.lines.find((line) => line.error)?.error).toMatch(/another live instance.*upstashFlags/);
  }, 60_000);

  it("a second instance in one process is refused until the first is disposed; reads are never refused", async () => {
    const dir = await tempDir();
    const first = storageFlags(fsDriver({ base: dir }));
    const { record } = await first.begin("k", { delayed: false });
    const second = storageFlags(fsDriver({ base: dir }));
    expect(await second.get("k")).toEqual(record);
    await expect(second.begin("k", { delayed: false })).rejects.toThrow(/in use by another live instance.*upstashFlags/);
    expect(await first.get("k")).toEqual(record); // the refusal changed nothing
    await first.dispose?.();
    const next = await second.begin("k", { delayed: false });
    expect(next.previous).toEqual(record);
    expect(next.record.generation).toBeGreaterThan(record.generation);
    await second.dispose?.();
  });

  it("an owner killed with SIGKILL does not lock out the process that restarts over its state", async () => {
    const dir = await tempDir();
    const crashed = runChild(dir, 3, true);
    await crashed.done;
    crashed.child.kill("SIGKILL");
    await crashed.exited;
    const restarted = storageFlags(fsDriver({ base: dir }));
    const { previous } = await restarted.begin("k", { delayed: false });
    expect(previous?.generation).toBe(crashed.lines[2]!.generation);
    await restarted.dispose?.();
  }, 30_000);

  it("stores over different drivers never meet", async () => {
    const one = storageFlags(memoryDriver());
    const two = storageFlags(memoryDriver());
    await one.begin("k", { delayed: false });
    await expect(two.begin("k", { delayed: false })).resolves.toMatchObject({ previous: null });
    await Promise.all([one.dispose?.(), two.dispose?.()]);
  });
});
