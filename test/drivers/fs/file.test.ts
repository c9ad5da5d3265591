import nodeFs from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { _openForReading } from "../../../src/drivers/fs/_file.ts";

// The fs driver reads over plain descriptors (src/drivers/fs/_file.ts): what FileHandle guarantees must still hold.

let dir: string;
const bytes = new Uint8Array(64 * 1024).map((_, i) => i % 253);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "queued-storage-fs-file-"));
  await writeFile(join(dir, "a.bin"), bytes);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("drivers: fs — read handles over descriptors", () => {
  it("reads at positions and reports size and mtime", async () => {
    const handle = await _openForReading(join(dir, "a.bin"));
    const { size, mtime } = await handle.stat();
    expect(size).toBe(bytes.byteLength);
    expect(mtime).toBeInstanceOf(Date);
    const view = new Uint8Array(100);
    expect((await handle.read(view, 0, 100, 1000)).bytesRead).toBe(100);
    expect(view).toEqual(bytes.subarray(1000, 1100));
    expect((await handle.read(view, 0, 100, bytes.byteLength)).bytesRead).toBe(0);
    await handle.close();
  });

  it("close waits for reads in flight (the descriptor is not closed under them), then reads fail with EBADF", async () => {
    const events: string[] = [];
    const originalRead = nodeFs.read;
    const originalClose = nodeFs.close;
    // Every read is held back 50 ms, and closes are recorded: a close that ran before the read ended would show first.
    const readSpy = vi.spyOn(nodeFs, "read").mockImplementation(((...args: unknown[]) => {
      const callback = args.pop() as (...r: unknown[]) => void;
      (originalRead as (...a: unknown[]) => void)(...args, (...result: unknown[]) => setTimeout(() => {
        events.push("read done");
        callback(...result);
      }, 50));
    }) as typeof nodeFs.read);
    const closeSpy = vi.spyOn(nodeFs, "close").mockImplementation(((fd: number, callback: (error: Error | null) => void) => {
      events.push("close");
      originalClose(fd, callback);
    }) as typeof nodeFs.close);
    syncBuiltinESMExports();
    try {
      const handle = await _openForReading(join(dir, "a.bin"));
      const view = new Uint8Array(10);
      const reading = handle.read(view, 0, 10, 0);
      const closing = handle.close();
      expect(handle.close()).toBe(closing); // one close, whoever asks
      expect((await reading).bytesRead).toBe(10);
      await closing;
      expect(events).toEqual(["read done", "close"]);
      await expect(handle.read(view, 0, 10, 0)).rejects.toMatchObject({ code: "EBADF" });
      await expect(handle.stat()).rejects.toMatchObject({ code: "EBADF" });
    } finally {
      readSpy.mockRestore();
      closeSpy.mockRestore();
      syncBuiltinESMExports();
    }
  });

  it("a missing file rejects with ENOENT", async () => {
    await expect(_openForReading(join(dir, "missing.bin"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
