import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStorage } from "unstorage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fsDriver from "../../../src/drivers/fs/index.ts";
import { testDriver } from "../../support/unstorage-test-driver.ts";
import { MiB, digestStream, generatedStream } from "../_streams.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "queued-storage-fs-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
/** A fresh, empty base directory per test. */
const freshBase = (): string => join(root, `case-${++counter}`);

describe("drivers: fs — unstorage contract", () => {
  testDriver({
    driver: () => fsDriver({ base: freshBase() }),
    additionalTests(ctx) {
      it("stores keys as nested files (a:b:c ↔ a/b/c)", async () => {
        await ctx.storage.setItem("a:b:c.txt", "nested");
        const { base } = (ctx.driver.getInstance!() as { base: string });
        expect(await readFile(join(base, "a", "b", "c.txt"), "utf8")).toBe("nested");
      });
    },
  });
});

describe("drivers: fs — atomic writes", () => {
  it("a write killed halfway (SIGKILL) leaves the old content readable and no temp file among the keys", async () => {
    const base = freshBase();
    const driver = fsDriver({ base });
    await driver.setItem!("docs:report.txt", "old content", {});
    const child = spawn(process.execPath, ["--import", "jiti/register", "test/drivers/fs/_writer-child.ts", base, "docs:report.txt"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the writer child never reported progress\n${stderr}`)), 20_000);
      child.stdout.setEncoding("utf8").on("data", (text: string) => {
        if (text.includes("writing")) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`the writer child exited early\n${stderr}`)));
    });
    // Mid-write: the new bytes are in a temp file beside the target, the target is untouched.
    const during = await readdir(join(base, "docs"));
    expect(during.some((name) => /^\.report\.txt\..+\.[0-9a-f]{16}\.tmp$/.test(name))).toBe(true);
    expect(await driver.getItem("docs:report.txt", {})).toBe("old content");
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    expect(await driver.getItem("docs:report.txt", {})).toBe("old content");
    expect(await driver.getKeys("", {})).toEqual(["docs/report.txt"]);
    expect(await createStorage({ driver }).getKeys()).toEqual(["docs:report.txt"]);
  });

  it("a failed streamed write keeps the previous content and removes its temp file", async () => {
    const base = freshBase();
    const driver = fsDriver({ base });
    await driver.setItemRaw!("file.bin", new Uint8Array([1, 2, 3]), {});
    const failing = generatedStream(32 * MiB, { failAfter: 5 * MiB }).stream;
    await expect(driver.setItemRaw!("file.bin", failing, {})).rejects.toThrow(/setItemRaw\("file.bin"\) failed: source failed after/);
    expect(await driver.getItemRaw!("file.bin", {})).toEqual(new Uint8Array([1, 2, 3]));
    expect(await readdir(base)).toEqual(["file.bin"]);
  });

  it("readers during a write see the old value or the new one, never a part of it", async () => {
    const driver = fsDriver({ base: freshBase() });
    const old = new Uint8Array(1 * MiB).fill(1);
    await driver.setItemRaw!("v.bin", old, {});
    const write = Promise.resolve(driver.setItemRaw!("v.bin", generatedStream(24 * MiB, { chunkSize: 16 * 1024 }).stream, {}));
    let finished = false;
    void write.then(() => (finished = true));
    const sizes = new Set<number>();
    while (!finished) {
      const value = (await driver.getItemRaw!("v.bin", {})) as Uint8Array;
      sizes.add(value.byteLength);
    }
    await write;
    sizes.add(((await driver.getItemRaw!("v.bin", {})) as Uint8Array).byteLength);
    expect([...sizes].sort((a, b) => a - b)).toEqual([1 * MiB, 24 * MiB]);
  });
});

describe("drivers: fs — streams", () => {
  it("streams a value in and out: setItemRaw takes a ReadableStream, getItemRaw({ type: 'stream' }) returns one", async () => {
    const driver = fsDriver({ base: freshBase() });
    const source = generatedStream(20 * MiB, { seed: 7 });
    await driver.setItemRaw!("big:file.bin", source.stream, {});
    const stream = (await driver.getItemRaw!("big:file.bin", { type: "stream" })) as ReadableStream<Uint8Array>;
    expect(stream).toBeInstanceOf(ReadableStream);
    const reader = stream.getReader();
    const first = await reader.read();
    expect(first.value!.byteLength).toBe(64 * 1024);
    reader.releaseLock();
    const rest = await digestStream(stream);
    expect(rest.size + first.value!.byteLength).toBe(20 * MiB);
    const whole = await digestStream((await driver.getItemRaw!("big:file.bin", { type: "stream" })) as ReadableStream<Uint8Array>);
    expect(whole).toEqual({ size: 20 * MiB, sha256: await source.sha256 });
    expect(await driver.getItemRaw!("big:missing.bin", { type: "stream" })).toBeNull();
  });

  it("writes byte streams through one reused buffer (BYOB) and chunk streams as they come, both intact", async () => {
    const driver = fsDriver({ base: freshBase() });
    for (const bytes of [true, false]) {
      const source = generatedStream(3 * MiB + 17, { seed: 4, bytes, chunkSize: 100_000 });
      await driver.setItemRaw!(`w-${bytes}`, source.stream, {});
      const read = await digestStream((await driver.getItemRaw!(`w-${bytes}`, { type: "stream" })) as ReadableStream<Uint8Array>);
      expect(read).toEqual({ size: 3 * MiB + 17, sha256: await source.sha256 });
    }
  });

  it("serves a BYOB reader from the file directly", async () => {
    const driver = fsDriver({ base: freshBase() });
    await driver.setItemRaw!("b.bin", new Uint8Array(300_000).map((_, i) => i % 251), {});
    const stream = (await driver.getItemRaw!("b.bin", { type: "stream" })) as ReadableStream<Uint8Array>;
    const reader = stream.getReader({ mode: "byob" });
    let memory = new ArrayBuffer(200_000);
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read(new Uint8Array(memory));
      if (done) break;
      expect(value[0]).toBe(total % 251);
      total += value.byteLength;
      memory = value.buffer as ArrayBuffer;
    }
    expect(total).toBe(300_000);
  });

  it("accepts Uint8Array, ArrayBuffer, Blob, ReadableStream and string; refuses anything else naming the key", async () => {
    const driver = fsDriver({ base: freshBase() });
    const bytes = new Uint8Array([9, 8, 7]);
    const values: Record<string, unknown> = {
      u8: bytes,
      ab: bytes.slice().buffer,
      view: new DataView(bytes.slice().buffer),
      blob: new Blob([bytes]),
      stream: new Blob([bytes]).stream(),
    };
    for (const [key, value] of Object.entries(values)) await driver.setItemRaw!(key, value, {});
    for (const key of Object.keys(values)) expect(new Uint8Array((await driver.getItemRaw!(key, {})) as Uint8Array)).toEqual(bytes);
    await driver.setItemRaw!("text", "héllo", {});
    expect(await driver.getItem("text", {})).toBe("héllo");
    await expect(driver.setItemRaw!("odd", 42, {})).rejects.toThrow('setItemRaw("odd"): unsupported value of type number');
  });

  it("reads byte ranges as bytes and as streams: the bytes asked for, what exists past the end, nothing past it", async () => {
    const driver = fsDriver({ base: freshBase() });
    const bytes = new Uint8Array(3 * MiB).map((_, i) => (i * 7) % 251);
    await driver.setItemRaw!("r.bin", bytes, {});
    const asBytes = (offset: number, length?: number): Promise<Uint8Array> =>
      driver.getItemRaw!("r.bin", { range: { offset, length } }) as Promise<Uint8Array>;
    const asStream = async (offset: number, length?: number): Promise<Uint8Array> =>
      new Uint8Array(await new Response((await driver.getItemRaw!("r.bin", { type: "stream", range: { offset, length } })) as ReadableStream).arrayBuffer());
    for (const read of [asBytes, asStream]) {
      expect(await read(1000, 4096)).toEqual(bytes.subarray(1000, 5096)); // small: read without asking the size
      expect(await read(2 * MiB, 2 * MiB)).toEqual(bytes.subarray(2 * MiB)); // large: capped by the size
      expect(await read(3 * MiB - 10, 4096)).toEqual(bytes.subarray(3 * MiB - 10)); // small, across the end
      expect((await read(3 * MiB + 5, 100)).byteLength).toBe(0); // past the end
      expect((await read(MiB)).byteLength).toBe(2 * MiB); // to the end
    }
    expect(await driver.getItemRaw!("missing.bin", { range: { offset: 0, length: 10 } })).toBeNull();
  });

  it("dispose closes streams handed out and not read, and can run twice", async () => {
    const driver = fsDriver({ base: freshBase() });
    await driver.setItemRaw!("f", new Uint8Array(1 * MiB), {});
    const stream = (await driver.getItemRaw!("f", { type: "stream" })) as ReadableStream<Uint8Array>;
    await driver.dispose!();
    await driver.dispose!();
    await expect(digestStream(stream)).rejects.toThrow(/closed/i);
  });
});

describe("drivers: fs — keys, meta, clear, ignore", () => {
  it("lists natively by depth (flags.maxDepth), counting from the base directory, under a base", async () => {
    const driver = fsDriver({ base: freshBase() });
    expect(driver.flags).toMatchObject({ maxDepth: true, streams: true });
    for (const key of ["a", "b:c", "b:d:e", "b:d:f:g"]) await driver.setItem!(key, "v", {});
    expect((await driver.getKeys("", { maxDepth: 0 })).sort()).toEqual(["a"]);
    expect((await driver.getKeys("", { maxDepth: 1 })).sort()).toEqual(["a", "b/c"]);
    expect((await driver.getKeys("b:", { maxDepth: 2 })).sort()).toEqual(["b/c", "b/d/e"]);
    expect((await driver.getKeys("b", {})).sort()).toEqual(["b/c", "b/d/e", "b/d/f/g"]);
    expect(await driver.getKeys("nothing:here", {})).toEqual([]);
  });

  it("getMeta gives size, mtime, atime and birthtime; null when missing", async () => {
    const driver = fsDriver({ base: freshBase() });
    const before = Date.now();
    await driver.setItem!("m.txt", "12345", {});
    const meta = await driver.getMeta!("m.txt", {});
    expect(meta).toMatchObject({ size: 5 });
    for (const field of ["mtime", "atime", "birthtime"]) expect(meta![field]).toBeInstanceOf(Date);
    expect((meta!.mtime as Date).getTime()).toBeGreaterThanOrEqual(before - 2000);
    expect(await driver.getMeta!("missing", {})).toBeNull();
  });

  it("clear(base) removes only what is under the base (clearing `a` keeps `ab`), then empty directories", async () => {
    const base = freshBase();
    const driver = fsDriver({ base });
    for (const key of ["a:1", "a:2:3", "ab:1", "b:1"]) await driver.setItem!(key, "v", {});
    await driver.clear!("a:", {});
    expect((await driver.getKeys("", {})).sort()).toEqual(["ab/1", "b/1"]);
    expect((await readdir(base)).sort()).toEqual(["ab", "b"]);
    await driver.clear!("", {});
    expect(await readdir(base)).toEqual([]);
  });

  it("ignore patterns (globs and RegExps) hide paths from listing and protect them from clear", async () => {
    const base = freshBase();
    await mkdir(join(base, "pkg", "node_modules", "dep"), { recursive: true });
    await writeFile(join(base, "pkg", "node_modules", "dep", "index.js"), "x");
    await writeFile(join(base, "debug.log"), "x");
    await writeFile(join(base, "keep.txt"), "x");
    await mkdir(join(base, "secret"));
    await writeFile(join(base, "secret", "token"), "x");
    const driver = fsDriver({ base, ignore: ["**/node_modules/**", "*.log", /^secret/] });
    // Ignored paths are not keys for any operation, so listing, clear and reads agree.
    await expect(driver.setItem!("secret:token", "y", {})).rejects.toThrow(/setItem\("secret:token"\): invalid key "secret:token": matches option `ignore`/);
    await expect(driver.getItem("debug.log", {})).rejects.toThrow(/matches option `ignore`/);
    expect(await driver.getKeys("", {})).toEqual(["keep.txt"]);
    expect((await fsDriver({ base }).getKeys("", {})).sort()).toEqual(["debug.log", "keep.txt", "secret/token"]);
    await driver.clear!("", {});
    expect((await readdir(base)).sort()).toEqual(["debug.log", "pkg", "secret"]);
  });

  it("rejects path traversal, absolute paths and NUL bytes with an error naming the key, touching nothing", async () => {
    const base = freshBase();
    const driver = fsDriver({ base });
    const attempts: [string, RegExp][] = [
      ["../escape", /invalid key "\.\.\/escape": "\." and "\.\." segments are not allowed \(path traversal\)/],
      ["a:..:..:etc:passwd", /invalid key "a:\.\.:\.\.:etc:passwd": .*path traversal/],
      ["/etc/passwd", /invalid key "\/etc\/passwd": absolute paths are not allowed/],
      ["C:\\Windows\\win.ini", /absolute paths are not allowed/],
      ["a\u0000b", /contains a NUL byte/],
    ];
    for (const [key, message] of attempts) {
      await expect(driver.setItem!(key, "x", {})).rejects.toThrow(message);
      await expect(driver.getItem(key, {})).rejects.toThrow(message);
      await expect(driver.removeItem!(key, {})).rejects.toThrow(message);
    }
    await expect(driver.getKeys("..", {})).rejects.toThrow(/path traversal/);
    await expect(driver.clear!("../..", {})).rejects.toThrow(/path traversal/);
    expect(await readdir(root)).not.toContain("escape");
    // Through unstorage the same keys are refused before the driver (since 1.17.6) or normalised inside the base.
    await expect(createStorage({ driver }).setItem("a:..:b", "x")).rejects.toThrow();
  });

  it("readOnly refuses writes, removals and clear; noClear makes clear a no-op", async () => {
    const base = freshBase();
    await fsDriver({ base }).setItem!("k", "v", {});
    const readOnly = fsDriver({ base, readOnly: true });
    expect(await readOnly.getItem("k", {})).toBe("v");
    await expect(readOnly.setItem!("k", "w", {})).rejects.toThrow(/setItem\("k"\): the driver is read-only/);
    await expect(readOnly.removeItem!("k", {})).rejects.toThrow(/read-only/);
    await expect(readOnly.clear!("", {})).rejects.toThrow(/read-only/);
    await fsDriver({ base, noClear: true }).clear!("", {});
    expect(await readOnly.getKeys("", {})).toEqual(["k"]);
  });

  it("requires `base` at first use, not at creation", async () => {
    const driver = fsDriver({} as { base: string });
    await expect(driver.getItem("k", {})).rejects.toThrow("[unstorage] [queued-storage:fs] Missing required option `base`.");
  });
});
