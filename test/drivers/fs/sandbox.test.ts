import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { _tempName } from "../../../src/drivers/fs/_temp.ts";
import fsDriver, { type FsDriverInstance } from "../../../src/drivers/fs/index.ts";

// Hostile file systems: links planted inside the base, writers killed for real, keys that look like the driver's
// own files. Every case checks the disk itself, not only what the driver says.

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "queued-storage-fs-sandbox-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
/** A fresh base directory and a sibling "outside" directory holding a secret file. */
async function world(): Promise<{ base: string; outside: string; secret: string }> {
  const dir = join(root, `case-${++counter}`);
  const base = join(dir, "base");
  const outside = join(dir, "outside");
  await mkdir(base, { recursive: true });
  await mkdir(outside, { recursive: true });
  const secret = join(outside, "secret.txt");
  await writeFile(secret, "top secret");
  return { base, outside, secret };
}

const LINK = /the path crosses a (dangling )?symbolic link.*links below the base directory are not followed/;

describe("drivers: fs — symbolic links never lead out of the base", () => {
  it("a file link to outside: every operation refuses it and the outside file is untouched", async () => {
    const { base, secret } = await world();
    await symlink(secret, join(base, "leak.txt"));
    const driver = fsDriver({ base });
    await expect(driver.getItem("leak.txt", {})).rejects.toThrow(LINK);
    await expect(driver.getItemRaw!("leak.txt", {})).rejects.toThrow(LINK);
    await expect(driver.getItemRaw!("leak.txt", { type: "stream" })).rejects.toThrow(LINK);
    await expect(driver.hasItem("leak.txt", {})).rejects.toThrow(LINK);
    await expect(driver.getMeta!("leak.txt", {})).rejects.toThrow(/getMeta\("leak.txt"\): the path crosses a symbolic link/);
    await expect(driver.setItem!("leak.txt", "overwritten", {})).rejects.toThrow(LINK);
    await expect(driver.removeItem!("leak.txt", {})).rejects.toThrow(LINK);
    expect(await driver.getKeys("", {})).toEqual([]);
    await driver.clear!("", {});
    expect(await readFile(secret, "utf8")).toBe("top secret");
  });

  it("a directory link to outside: reads, writes, deletes, listing and clear under it are refused", async () => {
    const { base, outside, secret } = await world();
    await symlink(outside, join(base, "out"), "dir");
    const driver = fsDriver({ base });
    await expect(driver.getItem("out:secret.txt", {})).rejects.toThrow(LINK);
    await expect(driver.setItem!("out:new.txt", "planted", {})).rejects.toThrow(LINK);
    await expect(driver.setItem!("out:deeper:new.txt", "planted", {})).rejects.toThrow(LINK);
    await expect(driver.removeItem!("out:secret.txt", {})).rejects.toThrow(LINK);
    await expect(driver.getKeys("out", {})).rejects.toThrow(LINK);
    await expect(driver.clear!("out", {})).rejects.toThrow(LINK);
    // The whole-base listing and clear do not walk into the link either.
    await driver.setItem!("inside.txt", "mine", {});
    expect(await driver.getKeys("", {})).toEqual(["inside.txt"]);
    await driver.clear!("", {});
    expect((await readdir(outside)).sort()).toEqual(["secret.txt"]);
    expect(await readFile(secret, "utf8")).toBe("top secret");
  });

  it("a dangling link (to a path outside that does not exist yet) is refused, and nothing is created there", async () => {
    const { base, outside } = await world();
    await symlink(join(outside, "later"), join(base, "later"), "dir");
    await symlink(join(outside, "later.txt"), join(base, "later.txt"));
    const driver = fsDriver({ base });
    await expect(driver.setItem!("later:file.txt", "planted", {})).rejects.toThrow(/dangling symbolic link/);
    await expect(driver.setItem!("later.txt", "planted", {})).rejects.toThrow(/dangling symbolic link/);
    expect((await readdir(outside)).sort()).toEqual(["secret.txt"]);
  });

  it("a link from outside into the base: a base given through a link works (it is resolved once)", async () => {
    const { base } = await world();
    const viaLink = join(root, `base-link-${counter}`);
    await symlink(base, viaLink, "dir");
    const driver = fsDriver({ base: viaLink });
    await driver.setItem!("a:b.txt", "through the base link", {});
    expect(await driver.getItem("a:b.txt", {})).toBe("through the base link");
    expect(await readFile(join(base, "a", "b.txt"), "utf8")).toBe("through the base link");
    expect(await driver.getKeys("", {})).toEqual(["a/b.txt"]); // driver-level keys are paths, as unstorage's fs driver gives them
  });

  it("links inside the base pointing inside it are not followed either (documented), and not listed", async () => {
    const { base } = await world();
    const driver = fsDriver({ base });
    await driver.setItem!("real:file.txt", "real", {});
    await symlink(join(base, "real"), join(base, "alias"), "dir");
    await symlink(join(base, "real", "file.txt"), join(base, "alias.txt"));
    await expect(driver.getItem("alias:file.txt", {})).rejects.toThrow(LINK);
    await expect(driver.getItem("alias.txt", {})).rejects.toThrow(LINK);
    expect(await driver.getKeys("", {})).toEqual(["real/file.txt"]);
  });
});

describe("drivers: fs — temp files of dead writers", () => {
  /** Start the writer child, wait until it is mid-write, and hand it back. */
  async function startWriter(base: string, key: string): Promise<{ kill(): Promise<void>; pid: number }> {
    const child = spawn(process.execPath, ["--import", "jiti/register", "test/drivers/fs/_writer-child.ts", base, key], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the writer child never reported progress\n${stderr}`)), 30_000);
      child.stdout.setEncoding("utf8").on("data", (text: string) => {
        if (text.includes("writing")) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`the writer child exited early\n${stderr}`)));
    });
    return {
      pid: child.pid!,
      async kill() {
        child.kill("SIGKILL");
        await exited;
      },
    };
  }
  const temps = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((name) => name.endsWith(".tmp"));

  it("temp files of writers killed with SIGKILL are removed on first use of a new driver, and by cleanup()", async () => {
    const { base } = await world();
    for (let i = 0; i < 3; i++) await (await startWriter(base, `uploads:video-${i}.bin`)).kill();
    // Each writer swept its dead predecessors on its own first use; the last one's temp file is left.
    expect((await temps(join(base, "uploads"))).length).toBeGreaterThanOrEqual(1);
    const driver = fsDriver({ base });
    expect(await driver.getKeys("", {})).toEqual([]); // first use: the sweep starts in the background
    for (let waited = 0; (await temps(join(base, "uploads"))).length > 0; waited += 50) {
      if (waited > 30_000) throw new Error("the first-use sweep did not remove the dead writer's temp file");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // And explicitly: another killed writer, then cleanup() reports exactly its file.
    await (await startWriter(base, "uploads:late.bin")).kill();
    const [temp] = await temps(join(base, "uploads"));
    const sweep = await (driver.getInstance!() as FsDriverInstance).cleanup();
    expect(sweep).toEqual({ removed: [`uploads/${temp}`], kept: [] });
    expect(await temps(join(base, "uploads"))).toEqual([]);
  }, 120_000);

  it("a live writer's temp file in another process is left alone; once it is killed, it goes", async () => {
    const { base } = await world();
    const writer = await startWriter(base, "live.bin");
    try {
      const [temp] = await temps(base);
      const driver = fsDriver({ base });
      const sweep = await (driver.getInstance!() as FsDriverInstance).cleanup();
      expect(sweep).toEqual({ removed: [], kept: [temp] });
      const before = (await stat(join(base, temp!))).size;
      // Still being written: it grows after the sweep.
      for (let waited = 0; (await stat(join(base, temp!))).size === before; waited += 20) {
        if (waited > 30_000) throw new Error("the live writer stopped writing");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await writer.kill();
      expect(await (driver.getInstance!() as FsDriverInstance).cleanup()).toEqual({ removed: [temp], kept: [] });
    } finally {
      await writer.kill();
    }
  }, 120_000);

  it("temp files without a known writer (another host, the old format) go only once older than staleTempMs", async () => {
    const { base } = await world();
    const otherHost = ".photo.jpg.00000000-1-abc.0123456789abcdef.tmp";
    const oldFormat = ".photo.jpg.fedcba9876543210.tmp";
    await writeFile(join(base, otherHost), "partial");
    await writeFile(join(base, oldFormat), "partial");
    const driver = fsDriver({ base, staleTempMs: 60_000 });
    const instance = driver.getInstance!() as FsDriverInstance;
    expect((await instance.cleanup()).kept.sort()).toEqual([otherHost, oldFormat].sort());
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(base, oldFormat), anHourAgo, anHourAgo);
    expect(await instance.cleanup()).toEqual({ removed: [oldFormat], kept: [otherHost] });
  });
});

describe("drivers: fs — liveness that cannot be checked", () => {
  it("a temp file of a dead pid is kept while process.kill cannot tell (Deno without --allow-run), removed once it can", async () => {
    const { base } = await world();
    // A pid that surely existed and is gone now.
    const child = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => child.once("exit", resolve));
    const name = _tempName("x.bin").replace(/-([0-9a-z]+)-([0-9a-z]+)\.([0-9a-f]{16})\.tmp$/, `-${child.pid!.toString(36)}-$2.$3.tmp`);
    await writeFile(join(base, name), "partial");
    const instance = fsDriver({ base }).getInstance!() as FsDriverInstance;
    const kill = vi.spyOn(process, "kill").mockImplementation(() => {
      throw Object.assign(new Error('Requires run access to "kill"'), { name: "NotCapable" });
    });
    try {
      expect(await instance.cleanup()).toEqual({ removed: [], kept: [name] });
    } finally {
      kill.mockRestore();
    }
    expect(await instance.cleanup()).toEqual({ removed: [name], kept: [] });
  });
});

describe("drivers: fs — clear, listings and reads agree on which keys exist", () => {
  it("keys that look like temp files or match `ignore` are refused by every operation, naming the key", async () => {
    const { base } = await world();
    const driver = fsDriver({ base });
    for (const key of [".x.0123456789abcdef.tmp", "a:.b.0123456789abcdef.tmp", "node_modules:x", "pkg:.git:config"]) {
      await expect(driver.setItem!(key, "v", {})).rejects.toThrow(`invalid key ${JSON.stringify(key)}`);
      await expect(driver.getItem(key, {})).rejects.toThrow(/temp-file name|matches option `ignore`/);
      await expect(driver.hasItem(key, {})).rejects.toThrow(/temp-file name|matches option `ignore`/);
      await expect(driver.removeItem!(key, {})).rejects.toThrow(/temp-file name|matches option `ignore`/);
    }
    expect(await readdir(base)).toEqual([]);
  });

  it("after clear(), no key that could be written reads back, and the listing is empty", async () => {
    const { base } = await world();
    const driver = fsDriver({ base });
    const keys = ["a", "x.tmp", ".hidden", "dir:.x.tmp", "node:modules", "git:x", "deep:er:key.bin", "0123456789abcdef.tmp"];
    for (const key of keys) await driver.setItem!(key, "v", {});
    expect((await driver.getKeys("", {})).sort()).toEqual(keys.map((key) => key.replaceAll(":", "/")).sort());
    await driver.clear!("", {});
    expect(await driver.getKeys("", {})).toEqual([]);
    for (const key of keys) expect(await driver.getItem(key, {})).toBe(null);
  });
});
