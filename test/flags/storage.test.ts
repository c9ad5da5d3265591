import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fsDriver from "unstorage/drivers/fs";
import memoryDriver from "unstorage/drivers/memory";
import { afterAll, describe, expect, it } from "vitest";
import { storageFlags } from "../../src/flags/storage.ts";
import { describeFlagStore } from "./_contract.ts";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "qs-flags-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describeFlagStore("storageFlags(unstorage memory driver)", () => storageFlags(memoryDriver()));
describeFlagStore("storageFlags(unstorage fs driver)", async () => storageFlags(fsDriver({ base: await tempDir() })));

describe("storageFlags over an fs directory", () => {
  it("a second store over the same directory sees every record and continues the generations (a restart)", async () => {
    const dir = await tempDir();
    const before = storageFlags(fsDriver({ base: dir }));
    await before.begin("photos:a.jpg", { delayed: false });
    const { record: b } = await before.begin("photos:b.jpg", { delayed: true });
    await before.claim("photos:b.jpg", b.generation, { token: "crashed", ms: 60_000 });
    await before.remove("photos:c.jpg");
    const { record: d } = await before.begin("d", { delayed: false });
    await before.claim("d", d.generation, { token: "T", ms: 60_000 });
    await before.settle("d", d.generation, "T");
    const keys = ["photos:a.jpg", "photos:b.jpg", "photos:c.jpg", "d"];
    const seen = await Promise.all(keys.map((key) => before.get(key)));
    const pendingBefore = await before.pending();
    await before.dispose?.();

    const after = storageFlags(fsDriver({ base: dir }));
    expect(await Promise.all(keys.map((key) => after.get(key)))).toEqual(seen);
    expect(await after.get("photos:b.jpg")).toMatchObject({ state: "transferring", lease: "crashed", attempts: 1 });
    expect(await after.get("d")).toMatchObject({ state: "remote" });
    const sort = (entries: Array<[string, unknown]>): Array<[string, unknown]> => entries.sort(([x], [y]) => x.localeCompare(y));
    expect(sort(await after.pending())).toEqual(sort(pendingBefore));
    expect(pendingBefore.map(([key]) => key).sort()).toEqual(["photos:a.jpg", "photos:b.jpg", "photos:c.jpg"]);
    const next = await after.begin("photos:a.jpg", { delayed: false });
    expect(next.previous).toEqual(pendingBefore.find(([key]) => key === "photos:a.jpg")![1]);
    expect(next.record.generation).toBeGreaterThan(next.previous!.generation);
    await after.clear("photos");
    expect(await storageFlags(fsDriver({ base: dir })).get("photos:a.jpg")).toBeNull();
    expect(await after.get("d")).not.toBeNull();
    await after.dispose?.();
  });

  it("keeps records under its `base` inside the driver, next to other data", async () => {
    const driver = memoryDriver();
    await driver.setItem!("unrelated", "data", {});
    const flags = storageFlags(driver, { base: "state:v1" });
    await flags.begin("k", { delayed: false });
    expect(JSON.parse(String(await driver.getItem("state:v1:k", {})))).toMatchObject({ state: "queued" });
    await flags.clear();
    expect(await driver.getItem("unrelated", {})).toBe("data");
    expect(await driver.hasItem("state:v1:k", {})).toBe(false);
  });
});
