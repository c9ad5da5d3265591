// The unstorage driver contract, as unstorage's own driver tests exercise it (reference: unstorage-nitro-deno.md §1),
// rewritten for this repository. Everything goes through createStorage, so the core's key handling applies.
// Extended for the driver matrix: a `settle` step between writes and reads (drain a queue, so reads come from the
// remote), the value kinds of unstorage-test-values.ts, and a second reader over the data checked against direct writes.
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { createStorage, restoreSnapshot, type Driver, type Storage } from "unstorage";
import { describeBytes, readStream, VALUE_CASES, writeCase, type ValueCase } from "./unstorage-test-values.ts";

export interface TestContext {
  storage: Storage;
  driver: Driver;
}

export interface TestOptions {
  /** The driver, or a factory called in `beforeAll` (e.g. once a server is up). */
  driver: Driver | (() => Driver);
  /** Leaves out the two `getKeys` cases for drivers that cannot list. */
  noKeysSupport?: boolean;
  /** More cases, registered before `removeItem` and `clear`; `ctx` is filled in by `beforeAll`. */
  additionalTests?: (ctx: TestContext) => void;
  /** Run by every case between its writes and its reads, e.g. to drain a transfer queue. */
  settle?: () => Promise<void>;
  /**
   * A driver over the same data (the remote tier of a queued driver), read after `settle` through a plain unstorage
   * storage: each value case also reads there, and must find what a direct write of the same value stores.
   */
  secondReader?: () => Driver;
}

/** Register the contract's cases in the current `describe`. The store must start empty; it is cleared after each case. */
export function testDriver(options: TestOptions): void {
  const ctx = {} as TestContext;
  const settle = (): Promise<void> => options.settle?.() ?? Promise.resolve();

  beforeAll(() => {
    ctx.driver = typeof options.driver === "function" ? options.driver() : options.driver;
    ctx.storage = createStorage({ driver: ctx.driver });
  });

  afterEach(async () => {
    await ctx.storage.clear();
  });

  // As in unstorage: dispose runs on the driver and again through the storage, so it must be idempotent.
  afterAll(async () => {
    await ctx.driver?.dispose?.();
    await ctx.storage?.dispose();
  });

  it("init: a snapshot restores and reads back", async () => {
    await restoreSnapshot(ctx.storage, { initial: "works" });
    await settle();
    expect(await ctx.storage.getItem("initial")).toBe("works");
    await ctx.storage.clear();
  });

  it("initial state: empty, and missing keys read as null rather than throwing", async () => {
    expect(await ctx.storage.hasItem("s1:a")).toBe(false);
    expect(await ctx.storage.getItem("s2:a")).toBeNull();
    expect(await ctx.storage.getKeys()).toEqual([]);
  });

  it("setItem: strings round-trip and a query string is not part of the key", async () => {
    await ctx.storage.setItem("s1:a", "test_data");
    await ctx.storage.setItem("s2:a", "test_data");
    await ctx.storage.setItem("s3:a?q=1", "test_data");
    await settle();
    expect(await ctx.storage.hasItem("s1:a")).toBe(true);
    expect(await ctx.storage.getItem("s1:a")).toBe("test_data");
    expect(await ctx.storage.getItem("s3:a?q=2")).toBe("test_data");
  });

  if (!options.noKeysSupport) {
    it("getKeys: every key, and the keys under a base", async () => {
      await ctx.storage.setItem("s1:a", "test_data");
      await ctx.storage.setItem("s2:a", "test_data");
      await ctx.storage.setItem("s3:a?q=1", "test_data");
      await settle();
      expect((await ctx.storage.getKeys()).sort()).toEqual(["s1:a", "s2:a", "s3:a"]);
      expect((await ctx.storage.getKeys("s1")).sort()).toEqual(["s1:a"]);
    });

    it("getKeys with depth: maxDepth 0, 1 and 2", async () => {
      await ctx.storage.setItem("depth0_0", "test_data");
      await ctx.storage.setItem("depth0:depth1:depth2_0", "test_data");
      await ctx.storage.setItem("depth0:depth1:depth2_1", "test_data");
      await ctx.storage.setItem("depth0:depth1_0", "test_data");
      await ctx.storage.setItem("depth0:depth1_1", "test_data");
      await settle();
      expect(await ctx.storage.getKeys(undefined, { maxDepth: 0 })).toEqual(["depth0_0"]);
      expect((await ctx.storage.getKeys(undefined, { maxDepth: 1 })).sort()).toEqual([
        "depth0:depth1_0",
        "depth0:depth1_1",
        "depth0_0",
      ]);
      expect((await ctx.storage.getKeys(undefined, { maxDepth: 2 })).sort()).toEqual([
        "depth0:depth1:depth2_0",
        "depth0:depth1:depth2_1",
        "depth0:depth1_0",
        "depth0:depth1_1",
        "depth0_0",
      ]);
    });
  }

  it("serialize (object)", async () => {
    await ctx.storage.setItem("/data/test.json", { json: "works" });
    await settle();
    expect(await ctx.storage.getItem("/data/test.json")).toEqual({ json: "works" });
  });

  it("serialize (primitive)", async () => {
    await ctx.storage.setItem("/data/true.json", true);
    await settle();
    expect(await ctx.storage.getItem("/data/true.json")).toBe(true);
  });

  it("serialize (lossy object with toJSON())", async () => {
    await ctx.storage.setItem("/data/serialized1.json", { toJSON: () => "SERIALIZED" });
    await settle();
    expect(await ctx.storage.getItem("/data/serialized1.json")).toBe("SERIALIZED");
    await ctx.storage.setItem("/data/serialized2.json", { toJSON: () => ({ serializedObj: "works" }) });
    await settle();
    expect(await ctx.storage.getItem("/data/serialized2.json")).toEqual({ serializedObj: "works" });
  });

  it("serialize (error for non primitives)", async () => {
    class NotSerializable {}
    await expect(ctx.storage.setItem("/data/badvalue.json", new NotSerializable())).rejects.toThrow(
      "[unstorage] Cannot stringify value!",
    );
  });

  it("raw support: bytes in, bytes of the same length and content out", async () => {
    const value = new Uint8Array([1, 2, 3]);
    await ctx.storage.setItemRaw("/data/raw.bin", value);
    await settle();
    const read = (await ctx.storage.getItemRaw("/data/raw.bin")) as Uint8Array | ArrayBuffer | null;
    expect(read).not.toBeNull();
    expect((read as Uint8Array).length || read!.byteLength).toBe(3);
    expect(Buffer.from(read as Uint8Array).toString("base64")).toBe(Buffer.from(value).toString("base64"));
  });

  it("setItems", async () => {
    await ctx.storage.setItems([
      { key: "t:1", value: "test_data_t1" },
      { key: "t:2", value: "test_data_t2" },
      { key: "t:3", value: "test_data_t3" },
    ]);
    await settle();
    expect(await ctx.storage.getItem("t:1")).toBe("test_data_t1");
    expect(await ctx.storage.getItem("t:2")).toBe("test_data_t2");
    expect(await ctx.storage.getItem("t:3")).toBe("test_data_t3");
  });

  it("getItems: input order kept, queries dropped, missing keys as null", async () => {
    await ctx.storage.setItem("v3:a?q=1", "test_data_v3:a?q=1");
    await ctx.storage.setItem("v2:a", "test_data_v2:a");
    await ctx.storage.setItem("v1:a", "test_data_v1:a");
    await settle();
    expect(await ctx.storage.getItems([{ key: "v1:a" }, "v2:a", { key: "v3:a?q=1" }, "v4:undefined"])).toMatchObject([
      { key: "v1:a", value: "test_data_v1:a" },
      { key: "v2:a", value: "test_data_v2:a" },
      { key: "v3:a", value: "test_data_v3:a?q=1" },
      { key: "v4:undefined", value: null },
    ]);
  });

  it("getItem returns falsy values that were stored (0, false)", async () => {
    await ctx.storage.setItem("zero", 0);
    await settle();
    expect(await ctx.storage.getItem("zero")).toBe(0);
    await ctx.storage.setItem("my-false-flag", false);
    await settle();
    expect(await ctx.storage.getItem("my-false-flag")).toBe(false);
  });

  for (const c of VALUE_CASES) {
    it(`value kinds: ${c.kind} ${c.name} reads back with its exact value and type`, async () => {
      await writeCase(ctx.storage, `kinds:${c.name}`, c);
      await settle();
      await expectValue(ctx.storage, `kinds:${c.name}`, c);
      if (options.secondReader) await expectAsDirectWrite(options.secondReader(), `kinds:${c.name}`, c);
    });
  }

  options.additionalTests?.(ctx);

  it("removeItem: removes a key, and removing a missing key does not throw", async () => {
    await ctx.storage.setItem("s1:a", "test_data");
    await settle();
    await ctx.storage.removeItem("s1:a", false);
    expect(await ctx.storage.hasItem("s1:a")).toBe(false);
    expect(await ctx.storage.getItem("s1:a")).toBeNull();
    await expect(ctx.storage.removeItem("s1:never-written", false)).resolves.toBeUndefined();
  });

  it("clear: empties the store, and clearing an empty store does not throw (unstorage #162)", async () => {
    await ctx.storage.setItem("c:1", "x");
    await settle();
    await ctx.storage.clear();
    expect(await ctx.storage.getKeys()).toEqual([]);
    await ctx.storage.clear();
    expect(await ctx.storage.getKeys()).toEqual([]);
  });
}

// --- value kinds ---

export async function expectValue(storage: Storage, key: string, c: ValueCase): Promise<void> {
  expect(await storage.hasItem(key), `${key} exists`).toBe(true);
  if (c.kind === "text") {
    expect(await storage.getItem(key), `${key} via getItem`).toStrictEqual(c.expected);
    return;
  }
  const bytes = await storage.getItemRaw(key);
  expect(bytes, `${key} via getItemRaw is bytes`).toBeInstanceOf(Uint8Array);
  expect(describeBytes(bytes), `${key} via getItemRaw`).toBe(describeBytes(c.bytes));
  if (c.name.startsWith("stream")) {
    const stream = await storage.getItemRaw(key, { type: "stream" });
    expect(describeBytes(await readStream(stream)), `${key} via getItemRaw as a stream`).toBe(describeBytes(c.bytes));
  }
}

/**
 * `driver` holds `key` exactly as a direct write of the same value would have stored it: a plain storage over it
 * reads the value back, and the driver's own getItem/getItemRaw answer the same for `key` as for a direct write.
 */
export async function expectAsDirectWrite(driver: Driver, key: string, c: ValueCase): Promise<void> {
  const plain = createStorage({ driver });
  const direct = `direct:${key}`;
  // Raw values are written directly as bytes: a Blob or a stream handed to a driver without raw support is not bytes.
  await writeCase(plain, direct, c.kind === "text" ? c : { ...c, value: () => c.bytes.slice() });
  try {
    if (c.kind === "text") expect(await plain.getItem(key), `${key} via a plain storage over the remote`).toStrictEqual(c.expected);
    else expect(describeBytes(await plain.getItemRaw(key)), `${key} raw via a plain storage over the remote`).toBe(describeBytes(c.bytes));
    expect(stored(await driver.getItem(key, {})), `${key}: driver.getItem as after a direct write`).toStrictEqual(
      stored(await driver.getItem(direct, {})),
    );
    if (driver.getItemRaw) {
      expect(stored(await driver.getItemRaw(key, {})), `${key}: driver.getItemRaw as after a direct write`).toStrictEqual(
        stored(await driver.getItemRaw(direct, {})),
      );
    }
  } finally {
    await plain.removeItem(direct);
  }
}

/** A stored value in a comparable form: bytes (Buffer or not) by content, long strings by hash. */
function stored(value: unknown): unknown {
  if (value instanceof Uint8Array) return `${value.constructor.name}: ${describeBytes(new Uint8Array(value))}`;
  if (typeof value === "string" && value.length > 256) return `string: ${describeBytes(new TextEncoder().encode(value))}`;
  return value;
}
