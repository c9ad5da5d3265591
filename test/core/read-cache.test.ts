import memory from "unstorage/drivers/memory";
import { describe, expect, it } from "vitest";
import { createQueuedStorage, memoryFlags, type FlagStore } from "../../src/index.ts";

// Issue 24: `readCacheMs` — reads of a `remote` key reuse its record for a bounded time instead of asking the store.

function countingGets(inner: FlagStore): { flags: FlagStore; gets: () => number } {
  let gets = 0;
  const flags: FlagStore = { ...inner, get: (key) => (gets++, inner.get(key)) };
  return { flags, gets: () => gets };
}

describe("readCacheMs", () => {
  it("reads of a remote key within the bound cost no state round trip; off by default", async () => {
    for (const readCacheMs of [0, 60_000]) {
      const { flags, gets } = countingGets(memoryFlags());
      const storage = createQueuedStorage({ local: memory(), remote: memory(), flags, readCacheMs });
      await storage.setItem("k", "v");
      await storage.drain();
      const before = gets();
      for (let i = 0; i < 10; i++) expect(await storage.getItem("k")).toBe("v");
      expect(gets() - before).toBe(readCacheMs ? 1 : 10);
    }
  });

  it("this instance's own writes and removals are never read stale", async () => {
    const storage = createQueuedStorage({ local: memory(), remote: memory(), readCacheMs: 60_000 });
    await storage.setItem("k", "v1");
    await storage.drain();
    expect(await storage.getItem("k")).toBe("v1"); // remembered
    await storage.setItem("k", "v2");
    expect(await storage.getItem("k")).toBe("v2"); // not the remembered remote record of v1
    await storage.drain();
    expect(await storage.getItem("k")).toBe("v2");
    await storage.removeItem("k");
    expect(await storage.getItem("k")).toBeNull();
    await storage.setItem("k", "v3");
    await storage.drain();
    expect(await storage.getItem("k")).toBe("v3");
    await storage.clear();
    expect(await storage.getItem("k")).toBeNull();
  });

  it("another instance's write is seen at most readCacheMs late", async () => {
    const flags = memoryFlags();
    const local = memory();
    const remote = memory();
    const a = createQueuedStorage({ local, remote, flags, readCacheMs: 200 });
    // Another instance: a store object of its own (as in another process), the same state and tiers.
    const b = createQueuedStorage({ local, remote, flags: { ...flags } });
    await a.setItem("k", "old");
    await a.drain();
    expect(await a.getItem("k")).toBe("old");
    await b.setItem("k", "new");
    await b.drain();
    const started = Date.now();
    let value = await a.getItem("k");
    while (value !== "new" && Date.now() - started < 1000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      value = await a.getItem("k");
    }
    expect(value).toBe("new");
    expect(Date.now() - started).toBeLessThan(200 + 100);
  });

  it("rejects a negative or non-numeric readCacheMs", () => {
    expect(() => createQueuedStorage({ local: memory(), remote: memory(), readCacheMs: -1 })).toThrow(/readCacheMs/);
    expect(() => createQueuedStorage({ local: memory(), remote: memory(), readCacheMs: "1s" as never })).toThrow(/readCacheMs/);
  });
});
