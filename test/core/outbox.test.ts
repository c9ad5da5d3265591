import { createStorage } from "unstorage";
import memory from "unstorage/drivers/memory";
import { describe, expect, it } from "vitest";
import { createQueuedStorage, memoryFlags, type EnqueueOptions, type FlagStore, type QueuedStorage, type TransferJob, type TransferQueue } from "../../src/index.ts";
import { holdingDriver } from "../support/holds.ts";

// Issue 24: `acknowledge: "stored"` — a write resolves once its intent is recorded and its bytes are stored; the job is
// published afterwards (src/core/_outbox.ts). Every test here fails with the awaited acknowledgement of before.

/** A queue whose publishes wait at a gate the test opens; it records what the local tier held when each job left. */
function gatedQueue(read: (key: string) => Promise<unknown>): TransferQueue & {
  published: Array<{ job: TransferJob; redo: boolean; localValue: unknown }>;
  calls: number[];
  open(): void;
  failNext(n: number): void;
  reached: Promise<void>;
} {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  let failures = 0;
  const queue = {
    name: "gated",
    published: [] as Array<{ job: TransferJob; redo: boolean; localValue: unknown }>,
    calls: [] as number[],
    reached,
    open,
    failNext: (n: number) => void (failures = n),
    async enqueue(job: TransferJob, options?: EnqueueOptions) {
      await queue.enqueueMany([job], options);
    },
    async enqueueMany(jobs: TransferJob[], options?: EnqueueOptions) {
      queue.calls.push(jobs.length);
      reach();
      await gate;
      if (failures > 0) {
        failures--;
        throw new Error("publish refused (test)");
      }
      for (const job of jobs) queue.published.push({ job, redo: options?.redo === true, localValue: await read(job.key) });
    },
  };
  return queue;
}

function world(options: { flags?: FlagStore; waitUntil?: (p: Promise<unknown>) => void } = {}) {
  const localMemory = memory();
  const local = holdingDriver(localMemory);
  const plainLocal = createStorage({ driver: localMemory });
  const queue = gatedQueue((key) => plainLocal.getItem(key));
  const flags = options.flags ?? memoryFlags();
  const storage = createQueuedStorage({ local: local.driver, remote: memory(), queue, flags, acknowledge: "stored", waitUntil: options.waitUntil });
  return { storage, queue, local, flags, plainLocal };
}

describe('acknowledge: "stored"', () => {
  it("a write resolves while its publish is still held, and the job leaves only after the bytes landed", async () => {
    const { storage, queue } = world();
    await storage.setItem("k", "v1");
    // Resolved although the queue has not taken the job yet.
    expect(queue.published).toHaveLength(0);
    await queue.reached;
    expect(await storage.status("k")).toMatchObject({ state: "queued" });
    queue.open();
    await storage.drain();
    expect(queue.published).toEqual([{ job: { key: "k", generation: expect.any(Number) }, redo: false, localValue: "v1" }]);
  });

  it("concurrent writes share batch publishes: 40 writes, a handful of queue calls, every job published once", async () => {
    const { storage, queue } = world();
    await Promise.all(Array.from({ length: 40 }, (_, i) => storage.setItem(`k${i}`, `v${i}`)));
    queue.open();
    await storage.drain();
    expect(queue.published.map((p) => p.job.key).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `k${i}`).sort());
    // At most 4 publishes in flight; everything sent meanwhile waits and goes out together.
    expect(queue.calls.length).toBeLessThanOrEqual(5);
    expect(queue.published.every((p) => p.localValue === `v${p.job.key.slice(1)}`)).toBe(true);
  });

  it("waitUntil gets each write's background publish; the per-call one wins over the option", async () => {
    const fromOption: Array<Promise<unknown>> = [];
    const { storage, queue } = world({ waitUntil: (p) => void fromOption.push(p) });
    const fromCall: Array<Promise<unknown>> = [];
    await storage.setItem("a", "1");
    await storage.setItem("b", "2", { waitUntil: (p: Promise<unknown>) => void fromCall.push(p) });
    expect([fromOption.length, fromCall.length]).toEqual([1, 1]);
    let settled = false;
    void Promise.all([...fromOption, ...fromCall]).then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false); // the publishes are still held
    queue.open();
    await Promise.all([...fromOption, ...fromCall]);
    expect(queue.published.map((p) => p.job.key).sort()).toEqual(["a", "b"]);
  });

  it("a failed publish is retried in the background; the write never saw it", async () => {
    const { storage, queue } = world();
    queue.failNext(2);
    queue.open();
    await storage.setItem("k", "v");
    await storage.drain();
    expect(queue.calls).toEqual([1, 1, 1]);
    expect(queue.published.map((p) => p.job.key)).toEqual(["k"]);
    expect((await storage.status("k"))?.error).toBeUndefined();
  });

  it("a publish that never succeeds is recorded on the key, and sync() queues it at once", async () => {
    const { storage, queue } = world();
    queue.failNext(4); // the first attempt and its 3 retries
    queue.open();
    await storage.setItem("k", "v");
    await storage.drain();
    expect(await storage.status("k")).toMatchObject({ state: "queued", error: expect.stringContaining("publish refused") });
    expect(await storage.sync()).toMatchObject({ queued: 1 });
    expect(queue.published.map((p) => [p.job.key, p.redo])).toEqual([["k", true]]);
  }, 15_000);

  it("sync() queues at once a stored write whose publish never happened (its process died), and leaves one still storing", async () => {
    const flags = memoryFlags();
    // The writer: its publish hangs forever, as if its process had died right after the acknowledgement.
    const writer = world({ flags });
    await writer.storage.setItem("done", "v");
    await writer.queue.reached;
    const stored = writer.local.hold("setItem", { key: "busy" });
    const storing = writer.storage.setItem("busy", "w");
    await stored.reached;
    await new Promise((resolve) => setTimeout(resolve, 20)); // the landed mark of "done" is written

    // Another instance over the same state (well within leaseMs: the writes began ms ago). A store object of its own,
    // as in another process: lanes are per store object, so it does not wait for the writer's held put.
    const other = world({ flags: { ...flags } });
    await other.plainLocal.setItem("done", "v"); // a shared local tier in production
    other.queue.open();
    const report = await other.storage.sync();
    expect(report).toMatchObject({ queued: 1 });
    // The owed job goes out with its own deduplication id (not a redo): a queue still holding the writer's publish
    // delivers it once.
    expect(other.queue.published.map((p) => [p.job.key, p.redo])).toEqual([["done", false]]);
    expect(await flags.get("busy")).toMatchObject({ bytes: "storing" });
    stored.release();
    await storing;
    writer.queue.open();
    await writer.storage.drain();
  });

  it("transfer(key) from another instance leaves a generation whose bytes are still being stored to its writer", async () => {
    const flags = memoryFlags();
    const writer = world({ flags });
    writer.queue.open();
    await writer.storage.setItem("k", "old");
    await writer.storage.drain();
    const put = writer.local.hold("setItem", { key: "k" });
    const writing = writer.storage.setItem("k", "new");
    await put.reached;
    const other = world({ flags: { ...flags } });
    other.queue.open();
    const before = await flags.get("k");
    expect(await other.storage.transfer("k")).toMatchObject({ state: "queued", generation: before!.generation });
    expect(other.queue.published).toEqual([]); // no job that could upload "old" under the new generation
    expect(await flags.get("k")).toEqual(before);
    put.release();
    await writing;
    await writer.storage.drain();
    expect(writer.queue.published.at(-1)).toMatchObject({ job: { key: "k", generation: before!.generation }, localValue: "new" });
  });
});

describe('acknowledge: "queued" (the default) is unchanged', () => {
  it("a write waits for its publish and records no bytes mark", async () => {
    const localMemory = memory();
    const plainLocal = createStorage({ driver: localMemory });
    const queue = gatedQueue((key) => plainLocal.getItem(key));
    const flags = memoryFlags();
    const storage: QueuedStorage = createQueuedStorage({ local: localMemory, remote: memory(), queue, flags });
    let resolved = false;
    const write = storage.setItem("k", "v").then(() => (resolved = true));
    await queue.reached;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(resolved).toBe(false);
    queue.open();
    await write;
    expect(await flags.get("k")).not.toHaveProperty("bytes");
  });

  it("rejects an unknown acknowledge and a waitUntil that is not a function", () => {
    expect(() => createQueuedStorage({ local: memory(), remote: memory(), acknowledge: "sent" as never })).toThrow(/acknowledge.*"queued" or "stored"/);
    expect(() => createQueuedStorage({ local: memory(), remote: memory(), waitUntil: 1 as never })).toThrow(/waitUntil.*function/);
  });
});
