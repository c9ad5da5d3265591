import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FlagRecord, FlagStore } from "../../src/contracts.ts";
import { describeFlagStoreKind, describeFlagStoreLanded } from "./_contract-kind.ts";
import { describeFlagStoreLifecycle, type StoreRef } from "./_contract-lifecycle.ts";
import { describeFlagStoreOperations } from "./_contract-operations.ts";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `value` is `expected` give or take `slack` (clocks of the store and of this process may differ a little). */
export function expectNear(value: number | undefined, expected: number, slack = 2000): void {
  expect(value).toBeTypeOf("number");
  expect(Math.abs(value! - expected)).toBeLessThan(slack);
}

/**
 * The FlagStore contract: every transition of src/flags/_transitions.ts, proven through the public methods.
 * Each test gets a fresh store from `factory`; it is cleared and disposed afterwards.
 */
export function describeFlagStore(name: string, factory: () => FlagStore | Promise<FlagStore>): void {
  describe(`FlagStore contract: ${name}`, () => {
    const ref: StoreRef = { store: undefined as unknown as FlagStore };
    beforeEach(async () => {
      ref.store = await factory();
    });
    afterEach(async () => {
      await ref.store.clear();
      await ref.store.dispose?.();
    });

    /** begin + claim: a key that is `transferring` under `token`. */
    async function claimed(key: string, token = "A", ms = 60_000): Promise<FlagRecord> {
      const { record } = await ref.store.begin(key, { delayed: false });
      const result = await ref.store.claim(key, record.generation, { token, ms });
      expect(result.status).toBe("claimed");
      return result.record!;
    }

    it("begin records intent with a clock-based generation, bumps it strictly and returns the previous record", async () => {
      const { store } = ref;
      expect(await store.get("k")).toBeNull();
      const first = await store.begin("k", { delayed: false });
      expect(first.previous).toBeNull();
      // `replaced: 0`: no earlier generation was known (a fenced transfer may skip its HeadObject)
      expect(first.record).toEqual({ state: "queued", generation: expect.any(Number), attempts: 0, updatedAt: expect.any(Number), replaced: 0 });
      expectNear(first.record.generation / 1000, Date.now(), 60_000); // µs of the store's clock
      expectNear(first.record.updatedAt, Date.now());
      const second = await store.begin("k", { delayed: true });
      expect(second.record.state).toBe("local");
      expect(second.record.generation).toBeGreaterThan(first.record.generation);
      expect(second.previous).toEqual(first.record);
      expect(second.record.replaced).toBe(first.record.generation);
      expect(await store.get("k")).toEqual(second.record);
      expect(await store.get("other")).toBeNull();
    });

    it("begin keeps a live lease and a live evict mark, and resets attempts and error", async () => {
      const { store } = ref;
      const held = await claimed("k", "A");
      await store.release("k", held.generation, "A", { error: "boom" });
      const again = (await store.claim("k", held.generation, { token: "A", ms: 60_000 })).record!;
      expect(again).toMatchObject({ attempts: 2, error: "boom", lease: "A" });
      const { record } = await store.begin("k", { delayed: false });
      expect(record).toMatchObject({ state: "queued", attempts: 0, lease: "A", leaseUntil: again.leaseUntil });
      expect(record.error).toBeUndefined();
      expect((await store.claim("k", record.generation, { token: "B", ms: 1000 })).status).toBe("busy");

      const gone = await claimed("e");
      const settled = await store.settle("e", gone.generation, "A", { evictMs: 60_000 });
      const kept = await store.begin("e", { delayed: false });
      expect(kept.record.evictUntil).toBe(settled.record!.evictUntil);
      expectNear(kept.record.evictUntil, Date.now() + 60_000);
      expect(kept.record.lease).toBe("A"); // the local delete holds the key until it ends
    });

    it("begin drops an evict mark that has lapsed", async () => {
      const { store } = ref;
      const held = await claimed("e");
      await store.settle("e", held.generation, "A", { evictMs: 30 });
      await sleep(80);
      expect((await store.begin("e", { delayed: false })).record.evictUntil).toBeUndefined();
    });

    it("requeue marks the current generation queued with no attempts and no error; null for unknown and removed keys", async () => {
      const { store } = ref;
      const { record } = await store.begin("k", { delayed: true });
      expect(await store.requeue("k")).toMatchObject({ state: "queued", generation: record.generation, attempts: 0 });
      await store.claim("k", record.generation, { token: "A", ms: 60_000 });
      const failed = await store.release("k", record.generation, "A", { error: "boom", final: true });
      expect(failed).toMatchObject({ state: "failed", attempts: 1, error: "boom" });
      const requeued = await store.requeue("k");
      expect(requeued).toMatchObject({ state: "queued", generation: record.generation, attempts: 0 });
      expect(requeued!.error).toBeUndefined();
      expect(await store.get("k")).toEqual(requeued);
      expect(await store.requeue("unknown")).toBeNull();
      expect(await store.get("unknown")).toBeNull();
      const tombstone = await store.remove("k");
      expect(await store.requeue("k")).toBeNull();
      expect(await store.get("k")).toEqual(tombstone);
    });

    it("claim takes the key, renews for the same token without counting an attempt, and is busy for another token", async () => {
      const { store } = ref;
      const { record } = await store.begin("k", { delayed: false });
      const before = Date.now();
      const first = await store.claim("k", record.generation, { token: "A", ms: 5000 });
      expect(first).toEqual({
        status: "claimed",
        record: { ...record, state: "transferring", attempts: 1, lease: "A", leaseUntil: expect.any(Number), updatedAt: expect.any(Number) },
      });
      expectNear(first.record!.leaseUntil, before + 5000);
      const renewed = await store.claim("k", record.generation, { token: "A", ms: 60_000 });
      expect(renewed.status).toBe("claimed");
      expect(renewed.record!.attempts).toBe(1);
      expect(renewed.record!.leaseUntil).toBeGreaterThan(first.record!.leaseUntil!);
      const busy = await store.claim("k", record.generation, { token: "B", ms: 60_000 });
      expect(busy).toEqual({ status: "busy", record: renewed.record });
      expect(await store.get("k")).toEqual(renewed.record);
    });

    it("claim is stale for another generation, an unknown or a removed key, and already-remote once settled", async () => {
      const { store } = ref;
      const { record } = await store.begin("k", { delayed: false });
      expect(await store.claim("k", record.generation - 1, { token: "A", ms: 1000 })).toEqual({ status: "stale", record });
      expect(await store.claim("none", 1, { token: "A", ms: 1000 })).toEqual({ status: "stale", record: null });
      await store.claim("k", record.generation, { token: "A", ms: 1000 });
      const remote = await store.settle("k", record.generation, "A");
      expect(await store.claim("k", record.generation, { token: "B", ms: 1000 })).toEqual({ status: "already-remote", record: remote.record });
      const tombstone = await store.remove("k");
      expect(await store.claim("k", tombstone.generation, { token: "B", ms: 1000 })).toEqual({ status: "stale", record: tombstone });
    });

    it("a lapsed lease can be taken over by another token, counting a new attempt", async () => {
      const { store } = ref;
      const held = await claimed("k", "A", 40);
      await sleep(120);
      const taken = await store.claim("k", held.generation, { token: "B", ms: 60_000 });
      expect(taken.status).toBe("claimed");
      expect(taken.record).toMatchObject({ lease: "B", attempts: 2, state: "transferring" });
    });

    it("settle sets remote for the current generation only, releasing the lease and clearing the error", async () => {
      const { store } = ref;
      const held = await claimed("k");
      await store.release("k", held.generation, "A", { error: "first try failed" });
      await store.claim("k", held.generation, { token: "A", ms: 60_000 });
      const settled = await store.settle("k", held.generation, "A");
      expect(settled).toEqual({
        status: "remote",
        record: { state: "remote", generation: held.generation, attempts: 2, updatedAt: expect.any(Number), replaced: 0 },
      });
      expect(await store.get("k")).toEqual(settled.record);
      const evicting = await claimed("e");
      const before = Date.now();
      const marked = await store.settle("e", evicting.generation, "A", { evictMs: 10_000 });
      expectNear(marked.record!.evictUntil, before + 10_000);
      expect(await store.settle("none", 1, "A")).toEqual({ status: "stale", record: null });
    });

    it("settle after a newer begin is stale and releases the lease it held; another token's lease is left alone", async () => {
      const { store } = ref;
      const held = await claimed("k", "A");
      const { record: newer } = await store.begin("k", { delayed: false });
      expect(newer.lease).toBe("A");
      const stale = await store.settle("k", held.generation, "A");
      expect(stale.status).toBe("stale");
      expect(stale.record).toMatchObject({ state: "queued", generation: newer.generation });
      expect(stale.record!.lease).toBeUndefined();
      expect(await store.get("k")).toEqual(stale.record);
      const other = await claimed("o", "B");
      await store.begin("o", { delayed: false });
      expect((await store.settle("o", other.generation, "A")).record).toMatchObject({ lease: "B" });
      expect((await store.get("o"))!.lease).toBe("B");
    });

    it("settle after a remove is stale and releases the lease, so the tombstone can be forgotten", async () => {
      const { store } = ref;
      const held = await claimed("k", "A");
      const tombstone = await store.remove("k");
      expect(tombstone).toMatchObject({ state: "removed", lease: "A" });
      expect(await store.forget("k", tombstone.generation)).toBe(false); // a transfer still holds it
      const stale = await store.settle("k", held.generation, "A");
      expect(stale.status).toBe("stale");
      expect(stale.record).toMatchObject({ state: "removed", generation: tombstone.generation });
      expect(stale.record!.lease).toBeUndefined();
      expect(await store.forget("k", tombstone.generation)).toBe(true);
      expect(await store.get("k")).toBeNull();
    });

    describeFlagStoreLifecycle(ref, claimed);
    describeFlagStoreKind(ref);
    describeFlagStoreLanded(ref);
    describeFlagStoreOperations(ref, claimed);
  });
}
