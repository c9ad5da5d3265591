import { expect, it } from "vitest";
import type { StoreRef } from "./_contract-lifecycle.ts";

/** The FlagStore contract for `kind`: set by the write's one `begin`, carried by every transition of that generation. */
export function describeFlagStoreKind(ref: StoreRef): void {
  it("begin records the write's kind, and requeue, claim, release and settle keep it for that generation", async () => {
    const { store } = ref;
    const { record } = await store.begin("k", { delayed: true, kind: "text" });
    expect(record).toMatchObject({ state: "local", kind: "text" });
    expect(await store.get("k")).toEqual(record);
    expect(await store.requeue("k")).toMatchObject({ kind: "text" });
    const claim = await store.claim("k", record.generation, { token: "A", ms: 60_000 });
    // The transfer learns the kind from its claim: no extra round trip.
    expect(claim).toMatchObject({ status: "claimed", record: { kind: "text" } });
    expect(await store.release("k", record.generation, "A", { error: "boom" })).toMatchObject({ kind: "text" });
    await store.claim("k", record.generation, { token: "A", ms: 60_000 });
    expect((await store.settle("k", record.generation, "A")).record).toMatchObject({ state: "remote", kind: "text" });

    const raw = await store.begin("k", { delayed: false, kind: "raw" });
    expect(raw.record).toMatchObject({ state: "queued", kind: "raw" });
    expect(raw.previous).toMatchObject({ kind: "text" });
    expect((await store.claim("k", raw.record.generation, { token: "B", ms: 60_000 })).record).toMatchObject({ kind: "raw" });
  });

  it("a begin without a kind records none (the transfer copies raw, as before kinds), and a tombstone has none", async () => {
    const { store } = ref;
    await store.begin("k", { delayed: false, kind: "text" });
    const { record } = await store.begin("k", { delayed: false });
    expect(record.kind).toBeUndefined();
    expect(Object.keys(await store.get("k") ?? {})).not.toContain("kind");
    await store.begin("k", { delayed: false, kind: "raw" });
    const tombstone = await store.remove("k");
    expect(tombstone.kind).toBeUndefined();
    expect((await store.get("k"))!.kind).toBeUndefined();
  });
}

/** The FlagStore contract for `bytes` (acknowledge: "stored"): `storing` from the intent, `stored` once landed. */
export function describeFlagStoreLanded(ref: StoreRef): void {
  it("begin with storing records bytes: storing; landed turns only that generation stored, many keys in one call", async () => {
    const { store } = ref;
    const a = await store.begin("a", { delayed: false, kind: "raw", storing: true });
    const b = await store.begin("b", { delayed: false, storing: true });
    expect(a.record).toMatchObject({ state: "queued", bytes: "storing" });
    expect(await store.get("b")).toMatchObject({ bytes: "storing" });
    // A write without storing (awaited acknowledgement, delayed) records no bytes field at all.
    expect((await store.begin("c", { delayed: false })).record.bytes).toBeUndefined();
    expect((await store.begin("d", { delayed: true, storing: true })).record.bytes).toBeUndefined();

    // b was written again meanwhile: its older generation's mark must not touch the new record.
    const b2 = await store.begin("b", { delayed: false, storing: true });
    await store.landed!([["a", a.record.generation], ["b", b.record.generation], ["gone", 1]]);
    expect(await store.get("a")).toMatchObject({ generation: a.record.generation, bytes: "stored", state: "queued" });
    expect(await store.get("b")).toMatchObject({ generation: b2.record.generation, bytes: "storing" });
    expect(await store.get("gone")).toBeNull();
    // Transitions of that generation keep the mark; the next write starts without it.
    const claim = await store.claim("a", a.record.generation, { token: "T", ms: 60_000 });
    expect(claim.record).toMatchObject({ bytes: "stored" });
    expect((await store.begin("a", { delayed: false })).record.bytes).toBeUndefined();
  });
}
