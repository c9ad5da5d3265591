import memoryDriver from "unstorage/drivers/memory";
import { describe, expect, it } from "vitest";
import { createQueuedStorage, defineTask, memoryFlags, memoryQueue, queuedDriver, transfer } from "../../src/index.ts";

/** A storage whose transfers fail while `broken.on` is set, dead-lettering at once (no retries). */
function failingStorage(prefix?: string) {
  const broken = { on: true };
  const flags = memoryFlags();
  const task = defineTask({
    name: "flaky",
    run: (ctx) => (broken.on ? Promise.reject(new Error("remote down (dlqId dlq_42)")) : transfer.run(ctx)),
  });
  const storage = createQueuedStorage({
    local: memoryDriver(),
    remote: memoryDriver(),
    flags,
    task,
    prefix,
    queue: memoryQueue({ retries: 0, retryDelay: 1 }),
  });
  return { storage, broken, flags };
}

describe("stats, list and retry on a queued storage", () => {
  it("a failed transfer shows in stats and list with its error and DLQ id; retry(key) turns it remote", async () => {
    const { storage, broken } = failingStorage();
    await storage.setItem("a", "1");
    await storage.setItem("b", "2");
    await storage.drain();
    expect(await storage.stats()).toMatchObject({ counts: { failed: 2, remote: 0 }, oldestPending: { key: "a" } });
    const page = await storage.list({ state: "failed" });
    expect(page.items).toEqual([
      ["a", expect.objectContaining({ state: "failed", error: expect.stringContaining("remote down"), dlqId: "dlq_42" })],
      ["b", expect.objectContaining({ state: "failed" })],
    ]);
    broken.on = false;
    expect(await storage.retry("a")).toMatchObject({ state: "queued", attempts: 0 });
    await storage.drain();
    expect(await storage.status("a")).toMatchObject({ state: "remote" });
    expect(await storage.retry("missing")).toBeNull();
    await expect(storage.retry("")).rejects.toThrow();
    await storage.dispose();
  });

  it("retry({ state: 'failed' }) requeues every failed key over several pages and answers their statuses", async () => {
    const { storage, broken } = failingStorage();
    const keys = Array.from({ length: 230 }, (_, i) => `f:${String(i).padStart(3, "0")}`);
    for (const key of keys) await storage.setItem(key, key);
    await storage.setItem("other", "x");
    await storage.drain();
    expect((await storage.stats()).counts.failed).toBe(231);
    broken.on = false;
    const retried = await storage.retry({ state: "failed", prefix: "f:" });
    expect(retried.map(([key]) => key)).toEqual(keys);
    expect(retried.every(([, status]) => status?.state === "queued")).toBe(true);
    await storage.drain();
    expect((await storage.stats()).counts).toMatchObject({ remote: 230, failed: 1 });
    await expect(storage.retry({ state: "queued" } as never)).rejects.toThrow(/failed/);
    await storage.dispose();
  });

  it("is scoped to the storage's prefix, on the driver's instance too", async () => {
    const flags = memoryFlags();
    await flags.begin("someone-else:k", { delayed: false });
    const driver = queuedDriver({ local: memoryDriver(), remote: memoryDriver(), flags, prefix: "mine", delayed: true });
    const controls = driver.getInstance!();
    await driver.setItem!("x:1", "v", {});
    expect(await controls.stats()).toEqual({
      counts: { local: 1, queued: 0, transferring: 0, remote: 0, failed: 0 },
      oldestPending: { key: "x:1", updatedAt: expect.any(Number), since: expect.any(Number) },
    });
    expect((await controls.list({ prefix: "x/" })).items.map(([key]) => key)).toEqual(["x:1"]);
    await expect(controls.list({ limit: 5000 })).rejects.toThrow("`limit` must be an integer from 1 to 1000, got 5000");
  });
});
