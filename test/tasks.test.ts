import { createStorage } from "unstorage";
import lruCacheDriver from "unstorage/drivers/lru-cache";
import memory from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import {
  createQueuedStorage,
  defineTask,
  memoryFlags,
  memoryQueue,
  transferAndDelete,
  type FailedEvent,
  type QueuedStorage,
  type TransferredEvent,
} from "../src/index.ts";
import { faultyDriver } from "./support/faults.ts";

let storage: QueuedStorage | undefined;
afterEach(() => storage?.dispose());
const quickQueue = () => memoryQueue({ retries: 3, retryDelay: 1 });

describe("tasks", () => {
  it("a task returning false is retried", async () => {
    let calls = 0;
    const task = defineTask({ name: "flaky", run: async (ctx) => ++calls > 1 && (await ctx.remote.setItem(ctx.key, "x"), true) });
    storage = createQueuedStorage({ local: memory(), remote: memory(), task, queue: quickQueue() });
    await storage.setItem("k", "v");
    await storage.drain();
    expect(calls).toBe(2);
    expect(await storage.status("k")).toMatchObject({ state: "remote", attempts: 2 });
  });

  it("a task returning something other than a boolean fails the job with an error naming the task", async () => {
    const failed: FailedEvent[] = [];
    let calls = 0;
    const task = defineTask({ name: "sloppy", run: (() => (calls++, undefined)) as never });
    storage = createQueuedStorage({ local: memory(), remote: memory(), task, queue: quickQueue(), onFailed: (e) => void failed.push(e) });
    await storage.setItem("k", "v");
    await storage.drain();
    expect(calls).toBe(1); // not retried: retrying cannot fix a broken contract
    const status = await storage.status("k");
    expect(status?.state).toBe("failed");
    expect(status?.error).toMatch(/task "sloppy" did not return true or false but undefined/);
    expect(failed).toHaveLength(1);
    await expect(storage.transferNow("k")).rejects.toThrow(/task "sloppy" did not return true or false/);
  });

  it("a task that throws is retried with the error recorded", async () => {
    const seen: Array<string | undefined> = [];
    let calls = 0;
    const task = defineTask(async function exploding(ctx) {
      seen.push((await storage!.status(ctx.key))?.error);
      if (++calls < 3) throw new Error(`boom ${calls}`);
      return true;
    });
    expect(task.name).toBe("exploding");
    storage = createQueuedStorage({ local: memory(), remote: memory(), task, queue: quickQueue() });
    await storage.setItem("k", "v");
    await storage.drain();
    expect(seen).toEqual([undefined, "boom 1", "boom 2"]);
    expect(await storage.status("k")).toMatchObject({ state: "remote", attempts: 3 });
    expect((await storage.status("k"))?.error).toBeUndefined();
  });

  it("onTransferred fires once per generation that reached the remote", async () => {
    const events: TransferredEvent[] = [];
    storage = createQueuedStorage({ local: memory(), remote: memory(), delayed: true, onTransferred: (e) => void events.push(e) });
    await storage.setItem("k", "v1");
    const first = (await storage.status("k"))!.generation;
    await storage.transferNow("k");
    // Duplicate deliveries of a done generation change nothing and fire nothing.
    expect(await storage.handle({ key: "k", generation: first })).toBe("already-remote");
    expect(await storage.transferNow("k")).toBe("already-remote");
    await storage.setItem("k", "v2");
    await storage.transferNow("k");
    expect(events.map((e) => e.generation)).toEqual([first, (await storage.status("k"))!.generation]);
    expect(events[0]).toMatchObject({ key: "k", task: "transfer", attempts: 1 });
  });

  it("transferAndDelete removes the local copy only after the remote holds the value", async () => {
    const local = memory();
    const { driver: remote, control } = faultyDriver(memory());
    control.failWrites(1);
    storage = createQueuedStorage({ local, remote, task: transferAndDelete, queue: quickQueue() });
    await storage.setItem("k", "v");
    await storage.drain();
    expect(control.failures).toBe(1);
    expect(await local.hasItem("k", {})).toBe(false);
    expect(await storage.getItem("k")).toBe("v");
    expect(await storage.getMeta("k")).toMatchObject({ tier: "remote", state: "remote" });
  });

  it("a missing local copy is never accepted on faith: an object of unknown generation on the remote fails at once, naming both", async () => {
    const local = memory();
    const remote = memory();
    storage = createQueuedStorage({ local, remote, delayed: true, queue: quickQueue(), leaseMs: 20 });
    await storage.setItem("k", "v");
    const { generation } = (await storage.status("k"))!;
    await local.removeItem!("k", {});
    await remote.setItem!("k", "something else", {});
    await new Promise((resolve) => setTimeout(resolve, 60)); // older than a lease: no write of it can still be running
    await expect(storage.transferNow("k")).rejects.toThrow(
      new RegExp(`local copy of generation ${generation} is missing and the remote holds an object whose generation cannot be checked`),
    );
    expect(await storage.status("k")).toMatchObject({ state: "failed" });
  });

  it("a vanished local copy with nothing on the remote fails at once, naming the generation; it is not taken for a ghost", async () => {
    const local = memory();
    storage = createQueuedStorage({ local, remote: memory(), delayed: true, queue: quickQueue() });
    await storage.setItem("k", "v");
    const { generation } = (await storage.status("k"))!;
    await local.removeItem!("k", {});
    await expect(storage.transferNow("k")).rejects.toThrow(new RegExp(`local copy of generation ${generation} is missing and the remote holds nothing`));
    expect(await storage.status("k")).toMatchObject({ state: "failed" });
  });

  it("sync() leaves a record whose write may still be running, and drops it as a ghost once older than a lease, never failed", async () => {
    const local = memory();
    const failed: unknown[] = [];
    const options = { local, remote: memory(), flags: memoryFlags(), queue: quickQueue(), onFailed: (e: unknown) => void failed.push(e) };
    storage = createQueuedStorage({ ...options, leaseMs: 60_000 });
    const { record } = await options.flags.begin("k", { delayed: false }); // intent recorded; the bytes never come
    expect(await storage.sync()).toEqual({ queued: 0, removed: 0, waiting: 0, dropped: 0 });
    expect(await storage.status("k")).toMatchObject({ state: "queued", generation: record.generation });
    const later = createQueuedStorage({ ...options, leaseMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 60)); // older than that lease: no write of it can still be running
    expect(await later.sync()).toEqual({ queued: 0, removed: 0, waiting: 0, dropped: 1 });
    await later.drain();
    expect(await later.status("k")).toBeNull();
    expect(await later.getKeys()).toEqual([]);
    expect(failed).toEqual([]);
    await later.dispose();
  });
});

describe("transferAndDelete keeps the local copy when the remote did not keep the value", () => {
  it("a remote that drops a write silently (LRU cache over its entry size) leaves the key failed and readable", async () => {
    const local = memory();
    // unstorage's lru-cache driver accepts an entry larger than maxEntrySize without an error, and stores nothing.
    const remote = lruCacheDriver({ maxSize: 1000, maxEntrySize: 16 });
    const failures: string[] = [];
    const storage = createQueuedStorage({
      local,
      remote,
      task: transferAndDelete,
      queue: memoryQueue({ retries: 0 }),
      onFailed: (event) => void failures.push(event.error),
    });
    await storage.setItem("big", "x".repeat(200));
    await storage.drain();
    expect(await createStorage({ driver: remote }).getItem("big")).toBe(null);
    expect(await createStorage({ driver: local }).getItem("big")).toBe("x".repeat(200));
    expect(await storage.getItem("big")).toBe("x".repeat(200));
    expect((await storage.status("big"))?.state).toBe("failed");
    expect(failures.join()).toContain("does not hold the value");
    await storage.dispose();
  });
});
