import { expect, it } from "vitest";
import type { FlagRecord, FlagStore } from "../../src/contracts.ts";

/** The store of the running test (set by the contract's beforeEach). */
export interface StoreRef {
  store: FlagStore;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `value` is `expected` give or take 2 s (the store's clock and ours may differ a little). */
function expectNearLocal(value: number | undefined, expected: number): void {
  expect(value).toBeTypeOf("number");
  expect(Math.abs(value! - expected)).toBeLessThan(2000);
}

/** Second half of the FlagStore contract: release, evicted, remove, forget, pending, clear and concurrency. */
export function describeFlagStoreLifecycle(ref: StoreRef, claimed: (key: string, token?: string, ms?: number) => Promise<FlagRecord>): void {
  it("release re-queues with the error (final: failed), drops the lease; the next claim counts another attempt", async () => {
    const { store } = ref;
    const held = await claimed("k", "A");
    const queued = await store.release("k", held.generation, "A", { error: "timeout" });
    expect(queued).toEqual({ state: "queued", generation: held.generation, attempts: 1, error: "timeout", updatedAt: expect.any(Number), replaced: 0 });
    expect(await store.get("k")).toEqual(queued);
    const again = await store.claim("k", held.generation, { token: "B", ms: 60_000 });
    expect(again.record).toMatchObject({ attempts: 2, lease: "B", error: "timeout" });
    const failed = await store.release("k", held.generation, "B", { error: "gave up", final: true });
    expect(failed).toEqual({ state: "failed", generation: held.generation, attempts: 2, error: "gave up", updatedAt: expect.any(Number), replaced: 0 });
    expect(await store.release("none", 1, "A", { error: "x" })).toBeNull();
  });

  it("release without an error keeps the last one; a release for another generation or token changes no state", async () => {
    const { store } = ref;
    const held = await claimed("k", "A");
    await store.release("k", held.generation, "A", { error: "first" });
    await store.claim("k", held.generation, { token: "A", ms: 60_000 });
    expect(await store.release("k", held.generation, "A", {})).toMatchObject({ state: "queued", error: "first" });
    const other = await claimed("o", "A");
    const { record: newer } = await store.begin("o", { delayed: false }); // keeps A's lease
    expect(await store.release("o", other.generation, "B", { error: "x", final: true })).toEqual(newer);
    const released = await store.release("o", other.generation, "A", { error: "x", final: true });
    expect(released).toMatchObject({ state: "queued", generation: newer.generation, attempts: 0 });
    expect(released!.lease).toBeUndefined();
    expect(released!.error).toBeUndefined();
    expect(await store.get("o")).toEqual(released);
  });

  it("settle with evictMs keeps the lease for the local delete; evicted by its token clears the mark and the lease", async () => {
    const { store } = ref;
    const held = await claimed("k");
    const { record } = await store.settle("k", held.generation, "A", { evictMs: 60_000 });
    expect(record).toMatchObject({ state: "remote", lease: "A" });
    expect(record!.evictUntil).toBeTypeOf("number");
    expect(record!.leaseUntil).toBe(record!.evictUntil);
    await store.evicted("k", "B"); // not the holder: nothing changes
    expect(await store.get("k")).toEqual(record);
    await store.evicted("k", "A");
    const { evictUntil: _e, lease: _l, leaseUntil: _u, ...rest } = record!;
    expect(await store.get("k")).toEqual(rest);
    await store.evicted("k", "A");
    await store.evicted("none", "A");
    expect(await store.get("none")).toBeNull();
  });

  it("renew extends the lease of its token whatever the generation, and the eviction mark with it; null once lost", async () => {
    const { store } = ref;
    const held = await claimed("k", "A", 1000);
    const { record: newer } = await store.begin("k", { delayed: false }); // a newer write does not end the upload's lease
    expect(newer.lease).toBe("A");
    const renewed = await store.renew("k", "A", 60_000);
    expect(renewed).toMatchObject({ generation: newer.generation, state: "queued", lease: "A" });
    expectNearLocal(renewed!.leaseUntil, Date.now() + 60_000);
    expect((await store.claim("k", newer.generation, { token: "B", ms: 1000 })).status).toBe("busy");
    expect(await store.renew("k", "B", 60_000)).toBeNull();
    expect(await store.get("k")).toEqual(renewed);
    expect((await store.settle("k", held.generation, "A")).status).toBe("stale"); // releases A
    expect(await store.renew("k", "A", 60_000)).toBeNull();
    expect(await store.renew("none", "A", 60_000)).toBeNull();

    const evicting = await claimed("e", "A");
    const settled = (await store.settle("e", evicting.generation, "A", { evictMs: 1000 })).record!;
    const { record: during } = await store.begin("e", { delayed: false }); // a writer arrives during the delete
    expect(during).toMatchObject({ lease: "A", evictUntil: settled.evictUntil });
    const extended = await store.renew("e", "A", 60_000);
    expect(extended).toMatchObject({ generation: during.generation, lease: "A" });
    expectNearLocal(extended!.evictUntil, Date.now() + 60_000);
    await store.evicted("e", "A");
    const after = (await store.get("e"))!;
    expect(after).toMatchObject({ state: "queued", generation: during.generation });
    expect(after.lease ?? after.evictUntil).toBeUndefined();
  });

  it("rollback restores the previous record of its generation only, keeping what holds the key now", async () => {
    const { store } = ref;
    const { record: first } = await store.begin("k", { delayed: false });
    expect(await store.rollback("k", first.generation, null)).toBe(true);
    expect(await store.get("k")).toBeNull();

    const done = await claimed("r");
    const remote = (await store.settle("r", done.generation, "A")).record!;
    const { record: failedWrite, previous } = await store.begin("r", { delayed: false });
    expect(await store.rollback("r", failedWrite.generation - 1, previous)).toBe(false); // not ours
    expect(await store.rollback("r", failedWrite.generation, previous)).toBe(true);
    expect(await store.get("r")).toEqual(remote);
    const { record: next } = await store.begin("r", { delayed: false });
    expect(next.generation).toBeGreaterThan(failedWrite.generation); // generations never repeat

    const uploading = await claimed("u", "A");
    const { record: during, previous: before } = await store.begin("u", { delayed: false });
    expect(await store.rollback("u", during.generation, before)).toBe(true);
    expect(await store.get("u")).toMatchObject({ state: "transferring", generation: uploading.generation, lease: "A", leaseUntil: uploading.leaseUntil });
    const { record: ghost } = await store.begin("g", { delayed: false });
    await store.claim("g", ghost.generation, { token: "A", ms: 60_000 });
    expect(await store.rollback("g", ghost.generation, null)).toBe(true); // held: a tombstone until A lets go
    expect(await store.get("g")).toMatchObject({ state: "removed", lease: "A" });
  });

  it("remove writes a tombstone with a newer generation, keeping a live lease", async () => {
    const { store } = ref;
    const { record } = await store.begin("k", { delayed: false });
    const tombstone = await store.remove("k");
    expect(tombstone).toEqual({ state: "removed", generation: expect.any(Number), attempts: 0, updatedAt: expect.any(Number) });
    expect(tombstone.generation).toBeGreaterThan(record.generation);
    expect(await store.get("k")).toEqual(tombstone);
    const held = await claimed("l", "A");
    expect(await store.remove("l")).toMatchObject({ state: "removed", lease: "A", leaseUntil: held.leaseUntil });
    expect((await store.remove("never-written")).state).toBe("removed");
  });

  it("forget drops a tombstone of its generation only, never a live record, and not while a lease is live", async () => {
    const { store } = ref;
    const { record } = await store.begin("k", { delayed: false });
    expect(await store.forget("k", record.generation)).toBe(false);
    const tombstone = await store.remove("k");
    expect(await store.forget("k", tombstone.generation - 1)).toBe(false);
    expect(await store.get("k")).toEqual(tombstone);
    expect(await store.forget("k", tombstone.generation)).toBe(true);
    expect(await store.get("k")).toBeNull();
    expect(await store.forget("k", tombstone.generation)).toBe(false);

    // A lease long enough that two store calls surely fit in it on a loaded machine (40 ms did not always).
    await claimed("l", "A", 600);
    const leased = await store.remove("l");
    expect(await store.forget("l", leased.generation)).toBe(false);
    await sleep(Math.max(0, leased.leaseUntil! - Date.now()) + 80); // the transfer crashed: its lease lapses
    expect(await store.forget("l", leased.generation)).toBe(true);
  });

  it("a remove during an eviction keeps the mark; the tombstone is neither forgotten nor cleared until it ends", async () => {
    const { store } = ref;
    const held = await claimed("k", "A");
    const settled = await store.settle("k", held.generation, "A", { evictMs: 60_000 });
    expect(settled.status).toBe("remote");
    const evictUntil = settled.record!.evictUntil;
    expect(evictUntil).toBeGreaterThan(Date.now());
    const tombstone = await store.remove("k");
    expect(tombstone).toMatchObject({ state: "removed", evictUntil });
    // A write after the tombstone was dropped could be deleted by the eviction still running: keep it.
    expect(await store.forget("k", tombstone.generation)).toBe(false);
    await store.clear();
    expect(await store.get("k")).toMatchObject({ state: "removed", evictUntil });
    await store.evicted("k", "A");
    const current = (await store.get("k"))!;
    expect(current.evictUntil).toBeUndefined();
    expect(await store.forget("k", current.generation)).toBe(true);
    expect(await store.get("k")).toBeNull();
  });

  it("generations keep increasing across remove + forget + begin", async () => {
    const { store } = ref;
    const first = (await store.begin("k", { delayed: false })).record;
    const tombstone = await store.remove("k");
    expect(await store.forget("k", tombstone.generation)).toBe(true);
    const { record, previous } = await store.begin("k", { delayed: false });
    expect(previous).toBeNull();
    expect(tombstone.generation).toBeGreaterThan(first.generation);
    expect(record.generation).toBeGreaterThan(tombstone.generation);
  });

  it("pending lists every record that is not remote, with its record", async () => {
    const { store } = ref;
    await store.begin("local", { delayed: true });
    await store.begin("queued", { delayed: false });
    await claimed("transferring");
    const failing = await claimed("failed");
    await store.release("failed", failing.generation, "A", { error: "x", final: true });
    await store.remove("removed");
    const done = await claimed("remote");
    await store.settle("remote", done.generation, "A");
    const pending = await store.pending();
    const states = Object.fromEntries(pending.map(([key, record]) => [key, record.state]));
    expect(states).toEqual({ local: "local", queued: "queued", transferring: "transferring", failed: "failed", removed: "removed" });
    for (const [key, record] of pending) expect(record).toEqual(await store.get(key));
    const back = await claimed("back");
    await store.settle("back", back.generation, "A");
    await store.begin("back", { delayed: false }); // remote → queued again: pending again
    expect((await store.pending()).map(([key]) => key)).toContain("back");
  });

  it("clear(base) removes the state under base only; a key a transfer holds becomes a tombstone", async () => {
    const { store } = ref;
    // (No key "a" beside "a:1": a file-system driver cannot hold both.)
    for (const key of ["a:1", "a:2:x", "ab:1", "abc", "b:1"]) await store.begin(key, { delayed: false });
    const held = await claimed("a:held", "A");
    await store.clear("a");
    expect(await store.get("a:1")).toBeNull();
    expect(await store.get("a:2:x")).toBeNull();
    for (const key of ["ab:1", "abc", "b:1"]) expect(await store.get(key)).not.toBeNull();
    const tombstone = await store.get("a:held");
    expect(tombstone).toMatchObject({ state: "removed", lease: "A" });
    expect(tombstone!.generation).toBeGreaterThan(held.generation);
    expect((await store.pending()).map(([key]) => key).sort()).toEqual(["a:held", "ab:1", "abc", "b:1"]);
    await store.clear("ab:");
    expect(await store.get("ab:1")).toBeNull();
    expect(await store.get("abc")).not.toBeNull();
    await store.clear();
    for (const key of ["abc", "b:1"]) expect(await store.get(key)).toBeNull();
    expect((await store.pending()).map(([key]) => key)).toEqual(["a:held"]); // still held: a tombstone
  });

  it("50 concurrent begins on one key yield 50 distinct generations, each newer than the one it replaced", async () => {
    const { store } = ref;
    const results = await Promise.all(Array.from({ length: 50 }, () => store.begin("k", { delayed: false })));
    const generations = results.map((r) => r.record.generation);
    expect(new Set(generations).size).toBe(50);
    for (const { record, previous } of results) if (previous) expect(record.generation).toBeGreaterThan(previous.generation);
    // They form one chain: each generation but the last was replaced exactly once, by exactly one begin.
    const replaced = results.map((r) => r.previous?.generation ?? null);
    expect(replaced.filter((g) => g === null)).toHaveLength(1);
    expect(new Set(replaced).size).toBe(50);
    expect((await store.get("k"))!.generation).toBe(Math.max(...generations));
  });

  it("20 concurrent claims with different tokens: exactly one is claimed, the others are busy", async () => {
    const { store } = ref;
    const { record } = await store.begin("k", { delayed: false });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.claim("k", record.generation, { token: `t${i}`, ms: 60_000 })),
    );
    const winners = results.filter((r) => r.status === "claimed");
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === "busy")).toHaveLength(19);
    expect(await store.get("k")).toMatchObject({ lease: winners[0]!.record!.lease, attempts: 1 });
  });
}
