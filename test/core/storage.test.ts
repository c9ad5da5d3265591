import { createStorage } from "unstorage";
import memory from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import { createQueuedStorage, memoryQueue, queuedDriver, storageFlags, transferAndDelete, type QueuedStorage } from "../../src/index.ts";
import { testDriver } from "../support/unstorage-test-driver.ts";

let storage: QueuedStorage;
// unstorage's memory driver keeps transferred raw values as bytes.
const text = (value: unknown) => (value instanceof Uint8Array ? new TextDecoder().decode(value) : value);
const make = (options: Partial<Parameters<typeof createQueuedStorage>[0]> = {}) => {
  const local = memory();
  const remote = memory();
  storage = createQueuedStorage({ local, remote, ...options });
  return { local, remote, storage };
};
afterEach(() => storage?.dispose());

describe("unstorage driver battery: queued driver over memory tiers", () => {
  testDriver({ driver: () => queuedDriver({ local: memory(), remote: memory() }) });
});

describe("unstorage driver battery: transferAndDelete, state in a driver, delayed", () => {
  testDriver({
    driver: () => queuedDriver({ local: memory(), remote: memory(), task: transferAndDelete, flags: storageFlags(memory()) }),
  });
  testDriver({ driver: () => queuedDriver({ local: memory(), remote: memory(), delayed: true }) });
});

describe("unstorage driver contract", () => {
  it("answers null for missing keys and does not throw on removing them or clearing empty storage", async () => {
    make();
    expect(await storage.getItem("nope")).toBeNull();
    expect(await storage.getItemRaw("nope")).toBeNull();
    expect(await storage.hasItem("nope")).toBe(false);
    await expect(storage.removeItem("nope")).resolves.toBeUndefined();
    await expect(storage.clear()).resolves.toBeUndefined();
    await expect(storage.clear()).resolves.toBeUndefined();
    expect(await storage.getKeys()).toEqual([]);
  });

  it("round-trips falsy values, objects and strings, also after the transfer", async () => {
    make();
    await storage.setItem("zero", 0);
    await storage.setItem("false", false);
    await storage.setItem("empty", "");
    await storage.setItem("obj", { json: "works" });
    const check = async () => {
      expect(await storage.getItem("zero")).toBe(0);
      expect(await storage.getItem("false")).toBe(false);
      expect(await storage.getItem("empty")).toBe("");
      expect(await storage.getItem("obj")).toEqual({ json: "works" });
    };
    await check();
    await storage.drain();
    expect((await storage.status("zero"))?.state).toBe("remote");
    await check();
  });

  it("lists each key once across both tiers, honours base and maxDepth", async () => {
    const { local, remote } = make();
    await storage.setItem("a", 1);
    await storage.setItem("d:b", 2);
    await storage.setItem("d:c:e", 3);
    await storage.drain(); // now on both tiers
    await remote.setItem!("d:only-remote", "4", {});
    await local.setItem!("d:only-local", "5", {});
    expect((await storage.getKeys()).sort()).toEqual(["a", "d:b", "d:c:e", "d:only-local", "d:only-remote"]);
    expect((await storage.getKeys("d")).sort()).toEqual(["d:b", "d:c:e", "d:only-local", "d:only-remote"]);
    expect((await storage.getKeys(undefined, { maxDepth: 0 })).sort()).toEqual(["a"]);
    expect((await storage.getKeys("d", { maxDepth: 1 })).sort()).toEqual(["d:b", "d:only-local", "d:only-remote"]);
    const driver = queuedDriver({ local, remote });
    expect((await driver.getKeys("", { maxDepth: 1 })).sort()).toEqual(["a", "d:b", "d:only-local", "d:only-remote"]);
  });

  it("clear(base) removes only under the base, on both tiers and in the state store", async () => {
    const { local, remote } = make();
    await storage.setItem("keep:a", "1");
    await storage.setItem("drop:a", "2");
    await storage.setItem("drop:b:c", "3");
    await storage.drain();
    await storage.clear("drop");
    expect(await storage.getKeys()).toEqual(["keep:a"]);
    expect(await local.getKeys("", {})).toEqual(["keep:a"]);
    expect(await remote.getKeys("", {})).toEqual(["keep:a"]);
    expect(await storage.status("drop:a")).toBeNull();
    expect((await storage.status("keep:a"))?.state).toBe("remote");
  });

  it("getItems keeps order and gives missing keys as null", async () => {
    make();
    await storage.setItem("v1", "a");
    await storage.setItem("v3", "c");
    expect(await storage.getItems(["v1", "v2", "v3"])).toEqual([
      { key: "v1", value: "a" },
      { key: "v2", value: null },
      { key: "v3", value: "c" },
    ]);
  });

  it("dispose is idempotent and stops the queue", async () => {
    make({ delayed: true });
    await storage.dispose();
    await expect(storage.dispose()).resolves.toBeUndefined();
  });
});

describe("raw values", () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  const inputs = {
    Uint8Array: () => bytes,
    ArrayBuffer: () => bytes.slice().buffer,
    Blob: () => new Blob([bytes]),
    ReadableStream: () => new Blob([bytes]).stream(),
  };
  for (const [kind, input] of Object.entries(inputs)) {
    it(`setItemRaw takes a ${kind}; getItemRaw gives bytes, or a stream when asked, before and after the transfer`, async () => {
      make({ delayed: true });
      await storage.setItemRaw("bin", input());
      for (const phase of ["local", "remote"]) {
        if (phase === "remote") expect(await storage.transferNow("bin")).toBe("transferred");
        expect((await storage.status("bin"))?.state).toBe(phase);
        expect(new Uint8Array((await storage.getItemRaw("bin")) as Uint8Array)).toEqual(bytes);
        const stream = await storage.getItemRaw("bin", { type: "stream" });
        expect(stream).toBeInstanceOf(ReadableStream);
        expect(new Uint8Array(await new Response(stream as ReadableStream).arrayBuffer())).toEqual(bytes);
      }
    });
  }
});

describe("reads follow the transfer state", () => {
  it("serves locally until the key is remote, then from the remote", async () => {
    const queue = memoryQueue();
    const { local, remote } = make({ queue, delayed: true });
    await storage.setItem("k", "v1");
    // Prove the tier by making the other one disagree.
    await remote.setItem!("k", "remote-copy", {});
    expect(await storage.getItem("k")).toBe("v1");
    expect(await storage.getMeta("k")).toMatchObject({ tier: "local", state: "local" });
    expect(await storage.transferNow("k")).toBe("transferred");
    await local.setItem!("k", "local-copy", {});
    expect(await storage.getItem("k")).toBe("v1");
    expect(await storage.getMeta("k")).toMatchObject({ tier: "remote", state: "remote" });
  });

  it("a key with no record is looked up locally, then remotely", async () => {
    const { local, remote } = make();
    await remote.setItem!("old", "from-remote", {});
    expect(await storage.getItem("old")).toBe("from-remote");
    await local.setItem!("old", "from-local", {});
    expect(await storage.getItem("old")).toBe("from-local");
    expect(await storage.hasItem("old")).toBe(true);
    expect(await storage.getMeta("old")).toMatchObject({ tier: "local" });
  });
});

describe("delayed mode", () => {
  it("queues nothing on write; transfer(key) queues, transferNow(key) runs inline", async () => {
    const { remote } = make({ delayed: true });
    await storage.setItem("a", "1");
    await storage.setItem("b", "2");
    await storage.drain();
    expect(await storage.status("a")).toMatchObject({ state: "local" });
    expect(await remote.hasItem("a", {})).toBe(false);
    expect(await storage.transfer("a")).toMatchObject({ state: "queued" });
    await storage.drain();
    expect(await storage.status("a")).toMatchObject({ state: "remote" });
    expect(text(await remote.getItem("a", {}))).toBe("1");
    expect(await storage.transferNow("b")).toBe("transferred");
    expect(text(await remote.getItem("b", {}))).toBe("2");
    expect(await storage.transfer("missing")).toBeNull();
    expect(await storage.sync()).toEqual({ queued: 0, removed: 0, waiting: 0, dropped: 0 });
  });
});

describe("bad input", () => {
  it("throws at construction naming the missing or wrong option", () => {
    const local = memory();
    expect(() => createQueuedStorage({ remote: memory() } as never)).toThrow(/missing required option `local`/);
    expect(() => createQueuedStorage({ local } as never)).toThrow(/missing required option `remote`/);
    expect(() => createQueuedStorage({ local, remote: {} as never })).toThrow(/option `remote` is not an unstorage driver: missing hasItem\(\)/);
    expect(() => createQueuedStorage({ local, remote: "s3" as never })).toThrow(/option `remote` must be an unstorage driver/);
    expect(() => createQueuedStorage({ local, remote: memory(), task: {} as never })).toThrow(/option `task`/);
  });

  it("rejects invalid keys with the key in the message, touching nothing", async () => {
    const { local } = make();
    const driver = queuedDriver({ local, remote: memory() });
    await expect(driver.setItem!("a:..:b", "x", {})).rejects.toThrow(/invalid key "a:..:b"/);
    await expect(driver.getItem("bad\u0001key", {})).rejects.toThrow(/invalid key "bad\\u0001key"/);
    await expect(driver.setItem!("", "x", {})).rejects.toThrow(/invalid key ""/);
    await expect(storage.handle({ key: "../etc", generation: 1 })).rejects.toThrow(/invalid key "..\/etc"/);
    await expect(storage.handle({ key: "k", generation: -1 })).rejects.toThrow(/generation must be a positive integer/);
    await expect(storage.handle({ key: "k", generation: 1, url: "http://x" } as never)).rejects.toThrow(/unexpected property url/);
    expect(await local.getKeys("", {})).toEqual([]);
  });

  it("a driver spec is resolved by name", async () => {
    const spec = createQueuedStorage({ local: { driver: "memory" }, remote: { driver: "memory" } });
    await spec.setItem("x", "y");
    await spec.drain();
    expect(await spec.getItem("x")).toBe("y");
    expect((await spec.status("x"))?.state).toBe("remote");
    const broken = createQueuedStorage({ local: { driver: "does-not-exist" }, remote: memory() });
    await expect(broken.setItem("x", "y")).rejects.toThrow(/option `local`: cannot import driver "does-not-exist"/);
    await spec.dispose();
  });

  it("unstorage mounts work with the queued driver", async () => {
    const mounted = createStorage();
    mounted.mount("uploads", queuedDriver({ local: memory(), remote: memory() }));
    await mounted.setItem("uploads:a", "one");
    expect(await mounted.getItem("uploads:a")).toBe("one");
    expect(await mounted.getKeys("uploads")).toEqual(["uploads:a"]);
    await mounted.dispose();
  });
});
