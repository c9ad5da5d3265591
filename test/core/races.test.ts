import { createStorage, type Storage } from "unstorage";
import memory from "unstorage/drivers/memory";
import { describe, expect, it } from "vitest";
import {
  createQueuedStorage,
  memoryQueue,
  transfer,
  transferAndDelete,
  type QueuedStorage,
  type Task,
  type TransferJob,
} from "../../src/index.ts";
import { holdingDriver, type HoldingDriver } from "../support/holds.ts";

// Issue 20: the races around a transfer and between operations on one key, each replayed exactly by holding one
// chosen driver call and releasing (or failing) it later. Each tier is read back by a plain unstorage storage too.

interface World {
  storage: QueuedStorage;
  local: HoldingDriver;
  remote: HoldingDriver;
  /** Plain unstorage storages over the tiers' own drivers: a second, independent reader. */
  plainLocal: Storage;
  plainRemote: Storage;
  /** Jobs the manual queue holds (empty with the memory queue). */
  jobs: TransferJob[];
  failed: string[];
  /** Deliver every pending job of the manual queue until none is left. */
  deliverAll(): Promise<void>;
}

function world(options: { task?: Task; queue?: "manual" | "memory" } = {}): World {
  const localMemory = memory();
  const remoteMemory = memory();
  const local = holdingDriver(localMemory);
  const remote = holdingDriver(remoteMemory);
  const jobs: TransferJob[] = [];
  const failed: string[] = [];
  const queue = options.queue === "memory"
    ? memoryQueue({ retryDelay: 5 })
    : { name: "manual", enqueue: async (job: TransferJob) => void jobs.push(job) };
  const storage = createQueuedStorage({
    local: local.driver,
    remote: remote.driver,
    queue,
    task: options.task ?? transfer,
    onFailed: (event) => void failed.push(`${event.key}: ${event.error}`),
  });
  return {
    storage,
    local,
    remote,
    plainLocal: createStorage({ driver: localMemory }),
    plainRemote: createStorage({ driver: remoteMemory }),
    jobs,
    failed,
    async deliverAll() {
      for (let round = 0; jobs.length > 0 && round < 20; round++) {
        for (const job of jobs.splice(0)) await storage.handle(job).catch(() => jobs.push(job));
      }
    },
  };
}

const settled = (promise: Promise<unknown>): { done: boolean } => {
  const state = { done: false };
  void promise.then(() => (state.done = true), () => (state.done = true));
  return state;
};
const ticks = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe("around a transfer (issue 20)", () => {
  it("transfer(key) during transferAndDelete's local delete leaves the key remote, with no failure and no local copy", async () => {
    const w = world({ task: transferAndDelete, queue: "memory" });
    const eviction = w.local.hold("removeItem");
    await w.storage.setItem("k", "v1");
    await eviction.reached; // settled `remote`, the local delete is in flight
    expect(await w.storage.transfer("k")).toMatchObject({ state: "remote", attempts: 1 });
    eviction.release();
    await w.storage.drain();
    expect(await w.storage.status("k")).toMatchObject({ state: "remote" });
    expect(w.failed).toEqual([]);
    expect(await w.storage.getItem("k")).toBe("v1");
    expect(await w.plainRemote.getItem("k")).toBe("v1");
    expect(await w.plainLocal.hasItem("k")).toBe(false);
  });

  it("a failed overwrite whose predecessor's job ended stale meanwhile re-queues the restored generation", async () => {
    const w = world();
    await w.storage.setItem("k", "v1");
    const [job1] = w.jobs.splice(0);
    const put = w.local.hold("setItem");
    const overwrite = w.storage.setItem("k", "v2");
    await put.reached;
    expect(await w.storage.handle(job1!)).toBe("stale"); // it sees v2's generation
    put.fail();
    await expect(overwrite).rejects.toThrow(/cannot write "k" to the local driver/);
    expect(await w.storage.status("k")).toMatchObject({ state: "queued", generation: job1!.generation });
    expect(w.jobs).toEqual([job1]); // the restored generation has a job again
    await w.deliverAll();
    expect(await w.storage.status("k")).toMatchObject({ state: "remote", generation: job1!.generation });
    expect(await w.plainRemote.getItem("k")).toBe("v1");
    expect(await w.storage.getItem("k")).toBe("v1");
  });

  it("a failed overwrite during its predecessor's upload restores `queued` with a job, never `transferring` without one", async () => {
    const w = world();
    await w.storage.setItem("k", "v1");
    const [job1] = w.jobs.splice(0);
    const upload = w.remote.hold("setItem");
    const running = w.storage.handle(job1!);
    await upload.reached;
    const put = w.local.hold("setItem");
    const overwrite = w.storage.setItem("k", "v2");
    await put.reached;
    upload.release();
    expect(await running).toBe("stale");
    put.fail();
    await expect(overwrite).rejects.toThrow(/cannot write "k"/);
    const restored = await w.storage.status("k");
    expect(restored).toMatchObject({ state: "queued", generation: job1!.generation });
    expect(w.jobs.map((job) => job.generation)).toEqual([job1!.generation]);
    expect((await w.storage.sync()).queued).toBe(1); // and sync() picks it up at once, not after leaseMs
    await w.deliverAll();
    expect(await w.storage.status("k")).toMatchObject({ state: "remote" });
    expect(await w.plainRemote.getItem("k")).toBe("v1");
  });

  it("removeItem whose local delete is slow never deletes a newer write acknowledged after it", async () => {
    const w = world({ queue: "memory" });
    await w.storage.setItem("k", "v1");
    await w.storage.drain();
    const del = w.local.hold("removeItem");
    const removal = w.storage.removeItem("k");
    await del.reached;
    const write = w.storage.setItem("k", "v2");
    const written = settled(write);
    await ticks();
    expect(written.done).toBe(false); // the write waits for the removal's deletes
    del.release();
    await Promise.all([removal, write]);
    expect(await w.storage.getItem("k")).toBe("v2");
    await w.storage.drain();
    expect(await w.storage.status("k")).toMatchObject({ state: "remote" });
    expect(await w.plainRemote.getItem("k")).toBe("v2");
    expect(await w.plainLocal.getItem("k")).toBe("v2");
    expect(w.failed).toEqual([]);
  });

  it("a slow local put followed by a remove: the remove takes effect after the put, nothing is left behind", async () => {
    const w = world({ queue: "memory" });
    const put = w.local.hold("setItem");
    const write = w.storage.setItem("k", "v1");
    await put.reached;
    const removal = w.storage.removeItem("k");
    await ticks();
    put.release();
    await Promise.all([write, removal]);
    await w.storage.drain();
    expect(await w.storage.getItem("k")).toBeNull();
    expect(await w.storage.status("k")).toBeNull();
    expect(await w.plainLocal.hasItem("k")).toBe(false);
    expect(await w.plainRemote.hasItem("k")).toBe(false);
  });

  it("sync() listing a tombstone whose removal is still deleting never redoes it over a newer write", async () => {
    const w = world();
    await w.storage.setItem("k", "v1");
    await w.deliverAll();
    const del = w.local.hold("removeItem");
    const removal = w.storage.removeItem("k");
    await del.reached;
    const sync = w.storage.sync();
    await ticks();
    const write = w.storage.setItem("k", "v2");
    await ticks();
    del.release();
    await Promise.all([removal, sync, write]);
    expect(await w.storage.getItem("k")).toBe("v2");
    await w.deliverAll();
    expect(await w.plainRemote.getItem("k")).toBe("v2");
    expect(await w.plainLocal.getItem("k")).toBe("v2");
  });
});

describe("concurrent operations on one key (issue 20)", () => {
  it("transferNow(key) racing a write in flight uploads the write's bytes, never the previous ones", async () => {
    const w = world();
    await w.storage.setItem("k", "v1");
    await w.deliverAll();
    const put = w.local.hold("setItemRaw");
    const write = w.storage.setItemRaw("k", new TextEncoder().encode("v2"));
    await put.reached;
    const now = w.storage.transferNow("k");
    await ticks();
    put.release();
    await write;
    expect(await now).toBe("transferred");
    expect(await w.storage.status("k")).toMatchObject({ state: "remote" });
    expect(new TextDecoder().decode((await w.plainRemote.getItemRaw("k")) as Uint8Array)).toBe("v2");
    expect(new TextDecoder().decode((await w.storage.getItemRaw("k")) as Uint8Array)).toBe("v2");
  });

  it("transfer(key) racing a write in flight queues the write's generation after its bytes landed", async () => {
    const w = world();
    await w.storage.setItem("k", "v1");
    await w.deliverAll();
    const put = w.local.hold("setItem");
    const write = w.storage.setItem("k", "v2");
    await put.reached;
    const redo = w.storage.transfer("k");
    await ticks();
    // Whatever was queued while the bytes are still on their way runs now, as a fast queue would run it.
    for (const job of w.jobs.splice(0)) await w.storage.handle(job);
    put.release();
    await write;
    const status = await redo;
    expect(w.jobs.every((job) => job.generation === status!.generation)).toBe(true);
    await w.deliverAll();
    expect(await w.plainRemote.getItem("k")).toBe("v2");
    expect(await w.storage.getItem("k")).toBe("v2");
  });

  it("two writes whose local puts would land out of order: the last generation's bytes and kind win on both tiers", async () => {
    const w = world({ queue: "memory" });
    const put = w.local.hold("setItem");
    const first = w.storage.setItem("k", "text-1");
    await put.reached;
    const second = w.storage.setItemRaw("k", new TextEncoder().encode("raw-2"));
    await ticks();
    put.release();
    await Promise.all([first, second]);
    await w.storage.drain();
    expect(new TextDecoder().decode((await w.storage.getItemRaw("k")) as Uint8Array)).toBe("raw-2");
    expect(new TextDecoder().decode((await w.plainLocal.getItemRaw("k")) as Uint8Array)).toBe("raw-2");
    expect(new TextDecoder().decode((await w.plainRemote.getItemRaw("k")) as Uint8Array)).toBe("raw-2");
    expect(await w.storage.status("k")).toMatchObject({ state: "remote" });
  });

  it("a write that waits for an eviction lands before a newer write, so no stale copy outlives transferAndDelete", async () => {
    const w = world({ task: transferAndDelete, queue: "memory" });
    await w.storage.setItem("k", "v0");
    await w.storage.drain();
    const eviction = w.local.hold("removeItem");
    await w.storage.setItem("k", "v1"); // its transfer evicts: held
    await eviction.reached;
    const waiting = w.storage.setItem("k", "v2"); // waits for the eviction, polling ever more slowly
    await new Promise((resolve) => setTimeout(resolve, 300));
    eviction.release();
    await eviction.done;
    await ticks();
    const newer = w.storage.setItem("k", "v3"); // begins after the eviction ended: nothing to wait for
    await Promise.all([waiting, newer]);
    await w.storage.drain();
    expect(await w.storage.getItem("k")).toBe("v3");
    expect(await w.plainRemote.getItem("k")).toBe("v3");
    expect(await w.plainLocal.hasItem("k")).toBe(false);
    expect(w.failed).toEqual([]);
  });
});
