import { Redis } from "@upstash/redis";
import { createStorage, type Driver } from "unstorage";
import memory from "unstorage/drivers/memory";
import { afterAll, describe, expect, it } from "vitest";
import {
  createQueuedStorage,
  memoryFlags,
  transfer,
  transferAndDelete,
  type FailedEvent,
  type FlagStore,
  type QueuedStorage,
  type Task,
} from "../../src/index.ts";
import { upstashFlags } from "../../src/flags/upstash.ts";
import { randomPrefix, redisDeleteMatching, requireRedis } from "../support/redis.ts";
import { stallingDriver } from "../support/stall.ts";
import { startUpstashProxy, type UpstashProxy } from "../support/upstash-proxy.ts";

// Issue 9: an acknowledged write is never lost or shadowed when an upload or a local delete stalls for longer than
// the lease. Each tier is read back with a plain createStorage({ driver }), an independent reader.
const LEASE = 300;
const STALL = 1500; // 5 × the lease

/** What a plain unstorage storage over `driver` reads, as text (a transferred value may sit there as bytes). */
async function readBack(driver: Driver, key: string): Promise<string | null> {
  const value = await createStorage({ driver }).getItemRaw(key);
  if (value === null || value === undefined || typeof value === "string") return value ?? null;
  return new TextDecoder().decode(value as Uint8Array);
}

/** Drain, then sync and drain again (a sync must not undo anything), and check what every reader sees. */
async function settled(storage: QueuedStorage, key: string, want: string, tiers: { local: Driver; remote: Driver }, task: Task): Promise<void> {
  await storage.drain();
  await storage.sync();
  await storage.drain();
  expect(await storage.getItem(key)).toBe(want);
  expect(await storage.status(key)).toMatchObject({ state: "remote" });
  expect(await readBack(tiers.remote, key)).toBe(want);
  expect(await readBack(tiers.local, key)).toBe(task.deleteLocal ? null : want);
}

describe("fenced transfers on a generic unstorage remote (issue 9)", () => {
  for (const task of [transfer, transferAndDelete]) {
    it(`${task.name}: an upload stalled past the lease is not overtaken by the newer write's upload, and never wins over it`, async () => {
      const local = memory();
      const remote = memory();
      const { driver: slowRemote, stall } = stallingDriver(remote, "setItem", { ms: STALL });
      const storage = createQueuedStorage({ local, remote: slowRemote, task, leaseMs: LEASE });
      await storage.setItem("k", "v1");
      await stall.started; // v1's upload is running and will take 5 leases
      await storage.setItem("k", "v2");
      expect(await storage.getItem("k")).toBe("v2");
      await settled(storage, "k", "v2", { local, remote }, task);
      await storage.dispose();
    });
  }

  it("a stalled local delete of transferAndDelete cannot delete a newer write: the writer waits for the real end of it", async () => {
    const local = memory();
    const remote = memory();
    const { driver: slowLocal, stall } = stallingDriver(local, "removeItem", { ms: STALL });
    // Delayed, so that v2 stays local-only until we ask: its transfer cannot hide a deleted local copy.
    const storage = createQueuedStorage({ local: slowLocal, remote, task: transferAndDelete, leaseMs: LEASE, delayed: true });
    await storage.setItem("k", "v1");
    await storage.transfer("k");
    await stall.started; // v1 is on the remote; its local copy is being deleted, slowly
    await storage.setItem("k", "v2");
    expect(await storage.getItem("k")).toBe("v2");
    await stall.finished;
    expect(await storage.getItem("k")).toBe("v2");
    await storage.transfer("k");
    await settled(storage, "k", "v2", { local, remote }, transferAndDelete);
    await storage.dispose();
  });

  it("a write whose local put fails leaves the key as it was: no ghost listed, re-queued or reported failed", async () => {
    const local = memory();
    const remote = memory();
    const { driver: failingLocal } = stallingDriver(local, "setItem", { nth: 2, ms: 1, fail: true });
    const failed: FailedEvent[] = [];
    const storage = createQueuedStorage({ local: failingLocal, remote, leaseMs: LEASE, onFailed: (event) => void failed.push(event) });
    await storage.setItem("old", "kept");
    await storage.drain();
    const before = await storage.status("old");
    await expect(storage.setItem("new", "never stored")).rejects.toThrow(/cannot write "new" to the local driver/);
    expect(await storage.status("new")).toBeNull();
    expect(await storage.getItem("new")).toBeNull();
    for (let round = 0; round < 2; round++) {
      expect(await storage.sync()).toEqual({ queued: 0, removed: 0, waiting: 0, dropped: 0 });
      await storage.drain();
    }
    expect(await storage.status("new")).toBeNull();
    expect(await storage.status("old")).toEqual(before);
    expect(failed).toEqual([]);
    expect(await storage.getKeys()).toEqual(["old"]);
    await storage.dispose();
  });

  it("an overwrite whose local put fails restores the previous record by compare-and-set", async () => {
    const local = memory();
    const remote = memory();
    const { driver: failingLocal } = stallingDriver(local, "setItem", { nth: 2, ms: 1, fail: true });
    const storage = createQueuedStorage({ local: failingLocal, remote, leaseMs: LEASE });
    await storage.setItem("k", "v1");
    await storage.drain();
    const before = await storage.status("k");
    expect(before).toMatchObject({ state: "remote" });
    await expect(storage.setItem("k", "v2")).rejects.toThrow(/cannot write "k" to the local driver/);
    expect(await storage.status("k")).toEqual(before);
    expect(await storage.sync()).toEqual({ queued: 0, removed: 0, waiting: 0, dropped: 0 });
    expect(await storage.getItem("k")).toBe("v1");
    await storage.dispose();
  });
});

describe("a generic remote cannot refuse a late write: the stale uploader repairs after itself (issue 9)", () => {
  it("an upload that lost its lease and landed over the newer generation puts that generation back in the queue", async () => {
    const local = memory();
    const remote = memory();
    const { driver: slowRemote, stall } = stallingDriver(remote, "setItem", { ms: STALL });
    const flags = memoryFlags();
    // The state store cannot be reached for renewals (a partition): leases lapse while uploads go on.
    const unreachable: FlagStore = { ...flags, renew: () => new Promise<never>(() => {}) };
    const storage = createQueuedStorage({ local, remote: slowRemote, flags: unreachable, task: transfer, leaseMs: LEASE });
    await storage.setItem("k", "v1");
    await stall.started;
    await storage.setItem("k", "v2"); // its transfer takes the key once v1's lease lapsed, and lands before v1's
    await stall.finished; // v1 landed late, over v2
    await storage.drain(); // v1's transfer noticed it had lost its lease and queued v2 again
    expect(await readBack(remote, "k")).toBe("v2");
    expect(await storage.getItem("k")).toBe("v2");
    expect(await storage.status("k")).toMatchObject({ state: "remote" });
    expect(stall.calls).toBe(3); // v1, v2, and v2 again
    await storage.dispose();
  });
});

describe("nothing accepted on faith (issue 9)", () => {
  it("transfer(key) of a remote key whose local copy was deleted leaves it remote instead of failing it", async () => {
    const local = memory();
    const remote = memory();
    const failed: FailedEvent[] = [];
    const storage = createQueuedStorage({ local, remote, task: transferAndDelete, onFailed: (event) => void failed.push(event) });
    await storage.setItem("k", "v1");
    await storage.drain();
    const before = await storage.status("k");
    expect(before).toMatchObject({ state: "remote" });
    expect(await storage.transfer("k")).toEqual(before);
    await storage.drain();
    expect(await storage.status("k")).toEqual(before);
    expect(await readBack(remote, "k")).toBe("v1");
    expect(failed).toEqual([]);
    await storage.dispose();
  });
});

describe("two instances sharing upstashFlags (issue 9)", () => {
  let proxy: UpstashProxy | undefined;
  const prefix = randomPrefix("fencing");
  afterAll(async () => {
    await proxy?.stop();
    await redisDeleteMatching(`${prefix}*`);
  });

  it("instance A's upload stalled past the lease; instance B's newer write of the key is transferred after it and wins", async () => {
    await requireRedis();
    proxy = await startUpstashProxy();
    const redis = new Redis({ url: proxy.url, token: proxy.token, enableTelemetry: false });
    const local = memory(); // a disk both instances see
    const remote = memory();
    const { driver: slowRemote, stall } = stallingDriver(remote, "setItem", { ms: STALL });
    const a = createQueuedStorage({ local, remote: slowRemote, flags: upstashFlags({ redis, prefix }), leaseMs: LEASE });
    const b = createQueuedStorage({ local, remote, flags: upstashFlags({ redis, prefix }), leaseMs: LEASE });
    await a.setItem("k", "v1");
    await stall.started;
    await b.setItem("k", "v2");
    await b.drain();
    await a.drain();
    await b.sync();
    await b.drain();
    for (const instance of [a, b]) expect(await instance.getItem("k")).toBe("v2");
    expect(await b.status("k")).toMatchObject({ state: "remote" });
    expect(await readBack(remote, "k")).toBe("v2");
    await Promise.all([a.dispose(), b.dispose()]);
  });
});

describe("sync() while an overwrite is still storing its bytes (issue 9)", () => {
  for (const task of [transfer, transferAndDelete]) {
    it(`${task.name}: sync() does not upload the older local copy under the newer generation`, async () => {
      const local = memory();
      const remote = memory();
      // The second local setItem is v2's: it stalls (shorter than the lease, so no write is mistaken for a ghost).
      const { driver: slowLocal, stall } = stallingDriver(local, "setItem", { nth: 2, ms: STALL });
      const storage = createQueuedStorage({ local: slowLocal, remote, task, leaseMs: 10 * STALL });
      await storage.setItem("k", "v1");
      await storage.drain();
      expect(await storage.status("k")).toMatchObject({ state: "remote" });
      const writing = storage.setItem("k", "v2");
      await stall.started; // v2's intent is recorded; the local tier still holds v1
      await storage.sync(); // must not queue v2's job: v2's bytes are not stored yet, its own write queues it
      await storage.drain();
      await writing;
      await settled(storage, "k", "v2", { local, remote }, task);
      await storage.dispose();
    });
  }
});
