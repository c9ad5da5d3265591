import { expect, it } from "vitest";
import type { FlagRecord, TransferCounts } from "../../src/contracts.ts";
import type { StoreRef } from "./_contract-lifecycle.ts";

const zero: TransferCounts = { local: 0, queued: 0, transferring: 0, remote: 0, failed: 0 };

/** The operator's part of the FlagStore contract (issue 21): stats() and list() follow every transition. */
export function describeFlagStoreOperations(ref: StoreRef, claimed: (key: string, token?: string, ms?: number) => Promise<FlagRecord>): void {
  const stats = () => ref.store.stats!();

  it("stats counts every state after every transition, tombstones, rollbacks and clears not counted, never twice", async () => {
    const { store } = ref;
    expect(await stats()).toEqual({ counts: zero, oldestPending: null });
    const first = await store.begin("a:first", { delayed: false });
    await store.begin("a:first", { delayed: false }); // a newer generation of the same key: still one key
    await store.begin("b:local", { delayed: true });
    const t = await claimed("b:transferring");
    await store.claim("b:transferring", t.generation, { token: "A", ms: 60_000 }); // renewing its own claim
    const f = await claimed("c:failed");
    await store.release("c:failed", f.generation, "A", { error: "boom (dlqId dlq_1)", final: true });
    const r = await claimed("c:remote");
    await store.settle("c:remote", r.generation, "A");
    await store.settle("c:remote", r.generation, "A"); // a second settle changes nothing
    expect((await stats()).counts).toEqual({ local: 1, queued: 1, transferring: 1, remote: 1, failed: 1 });

    const ghost = await store.begin("d:ghost", { delayed: false });
    expect((await stats()).counts.queued).toBe(2);
    await store.rollback("d:ghost", ghost.record.generation, null); // a failed write, or a ghost sync() drops
    const again = await store.begin("c:remote", { delayed: false }); // remote → queued again
    await store.rollback("c:remote", again.record.generation, again.previous); // … and back to remote
    const gone = await store.remove("b:local");
    await store.remove("b:local");
    expect((await stats()).counts).toEqual({ local: 0, queued: 1, transferring: 1, remote: 1, failed: 1 });
    await store.forget("b:local", (await store.get("b:local"))!.generation);
    expect(gone.state).toBe("removed");

    const oldest = (await stats()).oldestPending!;
    expect(oldest.key).toBe("a:first");
    expect(oldest.since).toBe(Math.floor((await store.get("a:first"))!.generation / 1000));
    expect(oldest.since).toBeGreaterThanOrEqual(Math.floor(first.record.generation / 1000));
    expect(oldest.updatedAt).toBe((await store.get("a:first"))!.updatedAt);

    expect((await store.stats!("c:")).counts).toEqual({ ...zero, remote: 1, failed: 1 });
    expect((await store.stats!("c:")).oldestPending!.key).toBe("c:failed");
    expect(await store.stats!("zzz")).toEqual({ counts: zero, oldestPending: null });
    await store.clear("c");
    expect((await stats()).counts).toEqual({ ...zero, queued: 1, transferring: 0 + 1 });
    await store.clear();
    expect(await stats()).toEqual({ counts: zero, oldestPending: null });
  });

  it("list pages records in key order by state and prefix, a cursor continuing each; failed ones carry their error", async () => {
    const { store } = ref;
    const keys = ["p:a", "p:b", "p:c", "p:d", "p:e", "q:a", "é:1", "z"];
    for (const key of keys) await store.begin(key, { delayed: false });
    const f = await claimed("p:c");
    await store.release("p:c", f.generation, "A", { error: "boom", final: true });
    const seen: string[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await store.list!({ limit: 3, ...(cursor && { cursor }) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      for (const [key, record] of page.items) {
        seen.push(key);
        expect(record).toEqual(await store.get(key));
      }
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(["p:a", "p:b", "p:c", "p:d", "p:e", "q:a", "z", "é:1"]); // UTF-8 byte order
    const prefixed = await store.list!({ prefix: "p:", limit: 2 });
    expect(prefixed.items.map(([key]) => key)).toEqual(["p:a", "p:b"]);
    const rest = await store.list!({ prefix: "p:", limit: 10, cursor: prefixed.cursor! });
    expect(rest).toMatchObject({ cursor: null });
    expect(rest.items.map(([key]) => key)).toEqual(["p:c", "p:d", "p:e"]);
    const failed = await store.list!({ state: "failed" });
    expect(failed.items).toEqual([["p:c", expect.objectContaining({ state: "failed", error: "boom" })]]);
    expect(failed.cursor).toBeNull();
    expect((await store.list!({ state: "remote" })).items).toEqual([]);
    await store.remove("p:a");
    expect((await store.list!({ prefix: "p:", limit: 1 })).items[0]![0]).toBe("p:b"); // tombstones are not listed
  });

  it("stats agrees with the records after 300 concurrent transitions of random kinds on 20 keys", async () => {
    const { store } = ref;
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    let seed = 7;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const step = async (key: string, kind: number): Promise<void> => {
      const record = await store.get(key);
      const generation = record?.generation ?? 0;
      if (kind === 0) await store.begin(key, { delayed: random(2) === 0 });
      else if (kind === 1) await store.claim(key, generation, { token: `t${random(3)}`, ms: 60_000 });
      else if (kind === 2) await store.settle(key, generation, `t${random(3)}`);
      else if (kind === 3) await store.release(key, generation, `t${random(3)}`, { error: "x", final: random(2) === 0 });
      else if (kind === 4) await store.remove(key);
      else if (kind === 5) await store.forget(key, generation);
      else if (kind === 6) await store.requeue(key);
      else if (kind === 7 && record) await store.rollback(key, generation, null);
    };
    await Promise.all(Array.from({ length: 300 }, () => step(keys[random(keys.length)]!, random(8))));
    const counted = { local: 0, queued: 0, transferring: 0, remote: 0, failed: 0 };
    for (const key of keys) {
      const record = await store.get(key);
      if (record && record.state !== "removed") counted[record.state]++;
    }
    expect((await stats()).counts).toEqual(counted);
    const listed = (await store.list!({ limit: 1000 })).items.map(([key]) => key);
    expect(listed).toEqual(keys.filter((key) => listed.includes(key)).sort());
    expect(listed.length).toBe(Object.values(counted).reduce((a, b) => a + b, 0));
  });

  it("list refuses a bad limit, state or cursor before touching anything", async () => {
    const { store } = ref;
    await store.begin("k", { delayed: false });
    for (const limit of [0, -1, 1001, 1.5, Number.NaN, 1e9, "10" as unknown as number]) {
      await expect(store.list!({ limit })).rejects.toThrow(/limit/);
    }
    await expect(store.list!({ state: "removed" as never })).rejects.toThrow(/state/);
    for (const cursor of ["garbage", "c1.!!", `c1.${"A".repeat(10_000)}`, "c1.wyg"]) {
      await expect(store.list!({ cursor })).rejects.toThrow(/cursor/);
    }
    const page = await store.list!({ prefix: "k", limit: 1 });
    expect(page.items.map(([key]) => key)).toEqual(["k"]);
    expect(page.cursor).toBeNull();
    await store.begin("m", { delayed: false });
    const cursor = (await store.list!({ limit: 1 })).cursor!;
    expect((await store.list!({ limit: 1, cursor })).items.map(([key]) => key)).toEqual(["m"]);
    await expect(store.list!({ prefix: "x", cursor })).rejects.toThrow(/cursor/); // issued for another prefix
  });
}
