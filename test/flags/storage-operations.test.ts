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

    // The CLI beside the running app reads every record as it is now; it may not change them (issue 20: one owner).
    const cli = storageFlags(fsDriver({ base: dir }));
    expect((await cli.stats!()).counts.failed).toBe(1);
    await expect(cli.requeue("a")).rejects.toThrow(/upstashFlags/);
    await app.requeue("a");
    await app.begin("b", { delayed: true });
    expect((await cli.stats!()).counts).toEqual({ local: 1, queued: 1, transferring: 0, remote: 0, failed: 0 });
    expect((await cli.list!({ state: "queued" })).items.map(([key]) => key)).toEqual(["a"]);

    // Once the app has stopped, the CLI changes the state, and the next app sees it (no cache in between).
    await app.dispose?.();
    await cli.release("a", record.generation, "", { error: "given up", final: true });
    await cli.dispose?.();
    const next = storageFlags(fsDriver({ base: dir }));
    expect((await next.stats!()).counts).toEqual({ local: 1, queued: 0, transferring: 0, remote: 0, failed: 1 });
    await next.dispose?.();
  });
});
