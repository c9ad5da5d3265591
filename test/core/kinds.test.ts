import { createStorage } from "unstorage";
import memory from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import { createQueuedStorage, memoryFlags, type QueuedStorage } from "../../src/index.ts";
import type { FlagStore } from "../../src/contracts.ts";

let storage: QueuedStorage | undefined;
afterEach(() => storage?.dispose());

/** memoryFlags counting the calls of each method. */
function countingFlags(change?: (store: FlagStore) => Partial<FlagStore>): { flags: FlagStore; calls: Record<string, number> } {
  const inner = memoryFlags();
  const calls: Record<string, number> = {};
  const base = { ...inner, ...change?.(inner) } as FlagStore;
  const flags = Object.fromEntries(
    Object.entries(base).map(([name, value]) => [
      name,
      typeof value === "function" ? (...args: unknown[]) => ((calls[name] = (calls[name] ?? 0) + 1), value(...args)) : value,
    ]),
  ) as unknown as FlagStore;
  return { flags, calls };
}

describe("value kinds", () => {
  it("the kind travels with the write's one begin: a write is one state-store call, a read one", async () => {
    const { flags, calls } = countingFlags();
    storage = createQueuedStorage({ local: memory(), remote: memory(), flags, delayed: true });
    await storage.setItem("t", { a: 1 });
    await storage.setItemRaw("r", new Uint8Array([1, 2]));
    expect(calls).toEqual({ begin: 2 });
    expect(await flags.get("t")).toMatchObject({ kind: "text" });
    expect(await flags.get("r")).toMatchObject({ kind: "raw" });
    for (const key of Object.keys(calls)) delete calls[key];
    expect(await storage.getItem("t")).toEqual({ a: 1 });
    expect(calls).toEqual({ get: 1 });
  });

  it("the transfer copies by kind: the remote holds the stored text of setItem and the bytes of setItemRaw", async () => {
    const remote = memory();
    storage = createQueuedStorage({ local: memory(), remote });
    await storage.setItem("text", '{ "spaced" : 1 }');
    await storage.setItemRaw("raw", new Uint8Array([0, 255]));
    await storage.drain();
    // The driver level: exactly what storage.setItem / setItemRaw over `remote` would have stored.
    expect(await remote.getItem("text", {})).toBe('{ "spaced" : 1 }');
    expect(await remote.getItemRaw!("raw", {})).toEqual(new Uint8Array([0, 255]));
    expect(await createStorage({ driver: remote }).getItem("text")).toEqual({ spaced: 1 });
  });

  it("records without a kind (written by an older version) still transfer, as raw bytes", async () => {
    // A store that drops the kind, as records written before kinds existed have none.
    const { flags } = countingFlags((inner) => ({ begin: (key, options) => inner.begin(key, { delayed: options.delayed }) }));
    const remote = memory();
    storage = createQueuedStorage({ local: memory(), remote, flags });
    await storage.setItem("old", "works");
    await storage.drain();
    expect(await storage.status("old")).toMatchObject({ state: "remote" });
    expect((await flags.get("old"))!.kind).toBeUndefined();
    expect(await remote.getItemRaw!("old", {})).toEqual(new TextEncoder().encode("works")); // the raw copy, as before
    expect(await storage.getItem("old")).toBe("works");
  });
});
