import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import fsDriver from "../../src/drivers/fs/index.ts";
import { storageFlags } from "../../src/flags/storage.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("storageFlags: stats() and list() read the records, not a cache", () => {
  it("see what another store over the same directory changed (the CLI beside a running app)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qs-flags-ops-"));
    dirs.push(dir);
    const app = storageFlags(fsDriver({ base: dir }));
    const { record } = await app.begin("a", { delayed: false });
    await app.claim("a", record.generation, { token: "T", ms: 60_000 });
    await app.release("a", record.generation, "T", { error: "down", final: true });
    expect((await app.stats!()).counts.failed).toBe(1);

    const cli = storageFlags(fsDriver({ base: dir }));
    await cli.requeue("a");
    await cli.begin("b", { delayed: true });
    expect((await app.stats!()).counts).toEqual({ local: 1, queued: 1, transferring: 0, remote: 0, failed: 0 });
    expect((await app.list!({ state: "queued" })).items.map(([key]) => key)).toEqual(["a"]);
  });
});
