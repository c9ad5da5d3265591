// The project's fs driver where unstorage's own fs-driver tests check the driver itself: driver-level key format
// (unstorage's "natively supports maxDepth in getKeys") and `watch` (unstorage's "watch filesystem").
import { mkdir, mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStorage } from "unstorage";
import unstorageFs from "unstorage/drivers/fs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import fsDriver from "../../../src/drivers/fs/index.ts";

const roots: string[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
afterAll(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

async function freshBase(): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), "qs-fs-unstorage-"));
  roots.push(base);
  return base;
}

describe("drivers: fs — driver-level keys as unstorage's fs driver gives them", () => {
  it("getKeys returns `/`-separated paths, depth-limited natively (unstorage: natively supports maxDepth)", async () => {
    const driver = fsDriver({ base: await freshBase() });
    const storage = createStorage({ driver });
    await storage.setItem("depth-test/file0.md", "boop");
    await storage.setItem("depth-test/depth0/file1.md", "boop");
    await storage.setItem("depth-test/depth0/depth1/file2.md", "boop");
    await storage.setItem("depth-test/depth0/depth1/file3.md", "boop");
    expect((await driver.getKeys("", { maxDepth: 1 })).sort()).toEqual(["depth-test/file0.md"]);
    expect((await driver.getKeys("", { maxDepth: 2 })).sort()).toEqual(["depth-test/depth0/file1.md", "depth-test/file0.md"]);
    // The storage still lists `:` keys.
    expect((await storage.getKeys("depth-test:depth0")).sort()).toEqual([
      "depth-test:depth0:depth1:file2.md",
      "depth-test:depth0:depth1:file3.md",
      "depth-test:depth0:file1.md",
    ]);
  });

  it("lists the same keys as unstorage's fs driver over the same tree, at every depth", async () => {
    const base = await freshBase();
    const ours = fsDriver({ base });
    const theirs = unstorageFs({ base });
    for (const key of ["a", "b:c", "b:d:e", "b:d:f:g"]) await ours.setItem!(key, "v", {});
    // Our driver refuses to write ignored keys (so clear, listings and reads agree); a file put there by someone else
    // is left out of both listings.
    await mkdir(join(base, "node_modules/x"), { recursive: true });
    await writeFile(join(base, "node_modules/x/y"), "v");
    for (const maxDepth of [undefined, 0, 1, 2, 3]) {
      const [mine, reference] = [await ours.getKeys("", { maxDepth }), await theirs.getKeys("", { maxDepth })];
      expect(mine.sort(), `maxDepth ${maxDepth}`).toEqual(reference.sort());
    }
  });
});

/** Collects watch events; `next(key)` resolves at the first event of `key` (the test times out otherwise). */
function recorder(): { events: Array<[string, string]>; callback: (event: string, key: string) => void; next(key: string): Promise<string> } {
  const events: Array<[string, string]> = [];
  const waiting = new Map<string, (event: string) => void>();
  return {
    events,
    callback(event, key) {
      events.push([event, key]);
      waiting.get(key)?.(event);
      waiting.delete(key);
    },
    next: (key) => new Promise((resolve) => waiting.set(key, resolve)),
  };
}

describe("drivers: fs — watch", () => {
  it("reports a file written by anyone as an update of its key (unstorage: watch filesystem), and its removal", async () => {
    const base = await freshBase();
    const storage = createStorage({ driver: fsDriver({ base }) });
    cleanups.push(() => storage.dispose());
    const seen = recorder();
    await storage.watch(seen.callback);
    await mkdir(join(base, "s1"), { recursive: true });
    const update = seen.next("s1:random_file");
    await writeFile(join(base, "s1", "random_file"), "random", "utf8");
    expect(await update).toBe("update");
    const removal = seen.next("s1:random_file");
    await unlink(join(base, "s1", "random_file"));
    expect(await removal).toBe("remove");
  });

  it("reports one update per write of the driver (no temp files), none for directories or ignored paths", async () => {
    const base = await freshBase();
    const driver = fsDriver({ base });
    cleanups.push(() => driver.dispose?.());
    const seen = recorder();
    const unwatch = await driver.watch!(seen.callback);
    const update = seen.next("a:b:c");
    await driver.setItem!("a:b:c", "one", {});
    expect(await update).toBe("update");
    await mkdir(join(base, "node_modules", "pkg"), { recursive: true });
    await writeFile(join(base, "node_modules", "pkg", "index.js"), "ignored");
    // A later key's event arrives after the earlier bursts settled: then nothing else may have been reported.
    const sentinel = seen.next("sentinel");
    await writeFile(join(base, "sentinel"), "x");
    await sentinel;
    const keys = seen.events.map(([, key]) => key);
    expect(keys.filter((key) => key === "a:b:c")).toHaveLength(1);
    expect(keys.some((key) => key.includes(".tmp") || key.startsWith("node_modules"))).toBe(false);
    expect(keys).not.toContain("a");
    expect(keys).not.toContain("a:b");
    // Removing a directory reports the keys inside it, not the directory.
    const removal = seen.next("a:b:c");
    await rm(join(base, "a"), { recursive: true });
    expect(await removal).toBe("remove");
    const after = seen.next("sentinel2");
    await writeFile(join(base, "sentinel2"), "x");
    await after;
    expect(seen.events.map(([, key]) => key)).not.toContain("a");
    unwatch();
  });

  it("stops reporting after unwatch, while another watcher of the same tree still reports", async () => {
    const base = await freshBase();
    const first = fsDriver({ base });
    const second = fsDriver({ base });
    cleanups.push(() => first.dispose?.(), () => second.dispose?.());
    const [a, b] = [recorder(), recorder()];
    const unwatch = await first.watch!(a.callback);
    await second.watch!(b.callback);
    unwatch();
    const seenBySecond = b.next("k");
    await writeFile(join(base, "k"), "x");
    expect(await seenBySecond).toBe("update");
    expect(a.events).toEqual([]);
  });
});
