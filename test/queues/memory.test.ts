import memory from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import { createQueuedStorage, defineTask, memoryQueue, type FailedEvent, type QueuedStorage } from "../../src/index.ts";
import { faultyDriver, sleep } from "../support/faults.ts";

let storage: QueuedStorage | undefined;
afterEach(() => storage?.dispose());

describe("memoryQueue", () => {
  it("never runs more transfers at once than its concurrency", async () => {
    let running = 0;
    let peak = 0;
    const task = defineTask({
      name: "slow",
      async run() {
        peak = Math.max(peak, ++running);
        await sleep(10);
        running--;
        return true;
      },
    });
    storage = createQueuedStorage({ local: memory(), remote: memory(), task, queue: memoryQueue({ concurrency: 3 }) });
    await Promise.all(Array.from({ length: 20 }, (_, i) => storage!.setItem(`k${i}`, i)));
    await storage.drain();
    expect(peak).toBe(3);
    for (let i = 0; i < 20; i++) expect((await storage.status(`k${i}`))?.state).toBe("remote");
  });

  it("retries with growing, jittered delays, then succeeds", async () => {
    const { driver: remote, control } = faultyDriver(memory());
    const times: number[] = [];
    const task = defineTask({
      name: "timed",
      async run(ctx) {
        times.push(Date.now());
        await ctx.remote.setItemRaw(ctx.key, await ctx.local.getItemRaw(ctx.key));
        return true;
      },
    });
    control.failWrites(3);
    storage = createQueuedStorage({ local: memory(), remote, task, queue: memoryQueue({ retries: 5, retryDelay: 20 }) });
    await storage.setItem("k", "v");
    await storage.drain();
    expect(control.failures).toBe(3);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Attempt n waits retryDelay × 2^(n-1) × [0.5, 1.5): 10–30, 20–60, 40–120 ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[2]).toBeGreaterThanOrEqual(39);
    expect(gaps[2]).toBeGreaterThan(gaps[0]!);
    expect(await storage.status("k")).toMatchObject({ state: "remote", attempts: 4 });
  });

  it("exhausted retries mark the key failed with the last error and call onFailed; sync() re-queues it", async () => {
    const { driver: remote, control } = faultyDriver(memory());
    const failed: FailedEvent[] = [];
    control.failWrites(3);
    storage = createQueuedStorage({
      local: memory(),
      remote,
      queue: memoryQueue({ retries: 2, retryDelay: 1 }),
      onFailed: (event) => void failed.push(event),
    });
    await storage.setItem("k", "v");
    await storage.drain();
    const status = await storage.status("k");
    expect(status).toMatchObject({ state: "failed", attempts: 3 });
    expect(status?.error).toMatch(/injected remote failure/);
    expect(failed).toEqual([expect.objectContaining({ key: "k", task: "transfer", attempts: 3 })]);
    expect(failed[0]!.error).toMatch(/injected remote failure/);
    // The value is still served locally while failed.
    expect(await storage.getItem("k")).toBe("v");
    expect(await storage.sync()).toEqual({ queued: 1, removed: 0, waiting: 0, dropped: 0 });
    await storage.drain();
    expect(await storage.status("k")).toMatchObject({ state: "remote", attempts: 1 });
  });

  it("holds a delayed job back and drain() waits for it", async () => {
    storage = createQueuedStorage({ local: memory(), remote: memory(), queue: memoryQueue({ delay: 50 }) });
    const start = Date.now();
    await storage.setItem("k", "v");
    await sleep(20);
    expect((await storage.status("k"))?.state).toBe("queued");
    await storage.drain();
    expect(Date.now() - start).toBeGreaterThanOrEqual(45);
    expect((await storage.status("k"))?.state).toBe("remote");
  });

  it("a duplicate job of a pending key and generation is queued once", async () => {
    let runs = 0;
    const task = defineTask({ name: "count", run: () => (runs++, true) });
    storage = createQueuedStorage({ local: memory(), remote: memory(), task, delayed: true, queue: memoryQueue({ delay: 10 }) });
    await storage.setItem("k", "v");
    await Promise.all([storage.transfer("k"), storage.transfer("k"), storage.transfer("k")]);
    await storage.drain();
    expect(runs).toBe(1);
  });
});
