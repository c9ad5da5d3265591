// clear() while transfers run, with unstorage's fs driver on both tiers (its clear() walks the tree and fails when
// files come and go under it): nothing throws, and nothing cleared comes back once the queue is idle.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Driver } from "unstorage";
import unstorageFs from "unstorage/drivers/fs";
import memory from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import { createQueuedStorage, memoryQueue, transfer, transferAndDelete, type QueuedStorage, type Task } from "../../src/index.ts";

const dirs: string[] = [];
let storage: QueuedStorage | undefined;
afterEach(async () => {
  await storage?.dispose();
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "qs-clear-"));
  dirs.push(dir);
  return dir;
}

/** Every file under `dir`, as paths relative to it. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1));
}

/** A driver whose writes yield first (0–2 ms), so transfers are still writing into the tree while clear() walks it. */
function yielding(driver: Driver): Driver {
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
  return {
    ...driver,
    setItem: async (key, value, opts) => (await pause(), driver.setItem!(key, value, opts)),
    setItemRaw: async (key, value, opts) => (await pause(), driver.setItemRaw!(key, value, opts)),
  };
}

const KEYS = 6;

describe.each<[string, Task]>([
  ["transfer", transfer],
  ["transferAndDelete", transferAndDelete],
])("clear() while transfers run (%s, unstorage fs on both tiers)", (_name, task) => {
  it("never throws, and leaves nothing behind on either tier or in the state", async () => {
    const [localDir, remoteDir] = [await tempDir(), await tempDir()];
    storage = createQueuedStorage({
      local: unstorageFs({ base: localDir }),
      remote: yielding(unstorageFs({ base: remoteDir })),
      queue: memoryQueue({ concurrency: 8, retries: 2, retryDelay: 1 }),
      task,
    });
    for (let round = 0; round < 80; round++) {
      const writes: Array<Promise<void>> = [];
      for (let i = 0; i < KEYS; i++) {
        const key = `r${round}:d${i % 4}:sub${i % 3}:k${i}`;
        writes.push(i % 2 ? storage.setItem(key, `v${i}`) : storage.setItemRaw(key, new Uint8Array([round, i])));
      }
      await Promise.all(writes);
      // Transfers of this round are running now (the queue started them on enqueue). Before clear() waited for them,
      // unstorage fs clear() failed here with ENOTEMPTY (a transfer wrote into a directory being removed) in most runs.
      await expect(storage.clear()).resolves.toBeUndefined();
      await storage.drain();
      expect(await storage.getKeys(), `round ${round}: keys after clear`).toEqual([]);
      expect(await files(localDir), `round ${round}: local files`).toEqual([]);
      expect(await files(remoteDir), `round ${round}: remote files`).toEqual([]);
      expect(await storage.sync()).toMatchObject({ queued: 0 });
    }
  });
});

describe("clear() when a tier's clear fails", () => {
  /** unstorage's memory driver whose clear() fails `failures` times the way unstorage's fs clear() does in a race. */
  function flakyClear(failures: number): Driver & { attempts: number } {
    const driver = memory();
    const flaky = {
      ...driver,
      attempts: 0,
      async clear(base: string, opts: object) {
        if (++flaky.attempts <= failures) {
          throw Object.assign(new Error("ENOTEMPTY: directory not empty, rmdir 'x'"), { code: "ENOTEMPTY" });
        }
        return driver.clear!(base, opts);
      },
    };
    return flaky;
  }

  it("clears again after a walk that raced (once), and the tier ends up empty", async () => {
    const remote = flakyClear(1);
    storage = createQueuedStorage({ local: memory(), remote });
    await storage.setItem("a", "1");
    await storage.drain();
    await expect(storage.clear()).resolves.toBeUndefined();
    expect(remote.attempts).toBe(2);
    expect(await remote.getKeys("", {})).toEqual([]);
  });

  it("gives up after three attempts with the tier's own error", async () => {
    const remote = flakyClear(Number.POSITIVE_INFINITY);
    storage = createQueuedStorage({ local: memory(), remote });
    await expect(storage.clear()).rejects.toThrow(/ENOTEMPTY/);
    expect(remote.attempts).toBe(3);
  });
});
