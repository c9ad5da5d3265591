import type { ClaimResult, FlagRecord, SettleResult, ValueKind } from "../contracts.ts";

// The per-key state machine as pure functions: (record, arguments, now) -> next record and result.
// memoryFlags and storageFlags apply these; upstashFlags implements the same rules in Lua (src/flags/_upstash-lua.ts),
// and the FlagStore contract test runs against all three.

/** A record write: `undefined` leaves the stored record as is, `null` deletes it. */
export interface Transition<R> {
  next: FlagRecord | null | undefined;
  result: R;
}

/**
 * Generations come from the store's clock (µs) so that they keep increasing after a record was deleted:
 * a transfer of a removed key can never be mistaken for one of a later write of the same key.
 * `floor` is the highest generation the store has issued: a clock with ms resolution repeats itself when a key is
 * forgotten and written again within one tick, and the new generation must still be newer than the tombstone's.
 */
export function _nextGeneration(previous: FlagRecord | null, nowMs: number, floor = 0): number {
  return Math.max((previous?.generation ?? 0) + 1, Math.floor(nowMs * 1000), floor + 1);
}

function _leaseLive(record: FlagRecord, now: number): boolean {
  return !!record.lease && (record.leaseUntil ?? 0) > now;
}

/** A transfer still uploads, or still deletes the local copy after one: the key's record must not go away yet. */
export function _held(record: FlagRecord, now: number): boolean {
  return _leaseLive(record, now) || (record.evictUntil ?? 0) > now;
}

/**
 * A fresh record of the next generation. A transfer's lease carries over (it still uploads, and no other may
 * start), and so does a running eviction's mark (a writer waits for it; a removal keeps its tombstone until it ends).
 */
function _newGeneration(previous: FlagRecord | null, state: FlagRecord["state"], now: number, floor: number): FlagRecord {
  const record: FlagRecord = { state, generation: _nextGeneration(previous, now, floor), attempts: 0, updatedAt: now };
  if (previous?.lease) {
    record.lease = previous.lease;
    record.leaseUntil = previous.leaseUntil;
  }
  if (previous?.evictUntil && previous.evictUntil > now) record.evictUntil = previous.evictUntil;
  return record;
}

function _withoutLease(record: FlagRecord): FlagRecord {
  const { lease: _lease, leaseUntil: _until, ...rest } = record;
  return rest;
}

export function _begin(
  previous: FlagRecord | null,
  delayed: boolean,
  now: number,
  floor = 0,
  kind?: ValueKind,
  storing = false,
): Transition<{ record: FlagRecord; previous: FlagRecord | null }> {
  // A running transfer keeps its lease (so no second upload of this key starts) and a running eviction
  // keeps its mark (the writer waits for it before writing the local copy).
  const record = _newGeneration(previous, delayed ? "local" : "queued", now, floor);
  // The kind rides on the write's one round trip; the transfer reads it from the record its claim returns.
  if (kind) record.kind = kind;
  // 0 after a removal too: no value of the key is left anywhere (a fenced transfer may skip its HeadObject, and reads
  // never fall back to a remote object, which can only be a stale upload that landed after the removal's delete).
  record.replaced = previous && previous.state !== "removed" ? previous.generation : 0;
  if (storing && !delayed) record.bytes = "storing";
  return { next: record, result: { record, previous } };
}

/** The bytes of `generation` landed locally: only that generation's `storing` mark turns `stored`. */
export function _landed(record: FlagRecord | null, generation: number): Transition<void> {
  if (!record || record.generation !== generation || record.bytes !== "storing") return { next: undefined, result: undefined };
  return { next: { ...record, bytes: "stored" }, result: undefined };
}

export function _requeue(record: FlagRecord | null, now: number, generation?: number): Transition<FlagRecord | null> {
  if (!record || record.state === "removed") return { next: undefined, result: null };
  if (generation !== undefined && record.generation !== generation) return { next: undefined, result: null };
  // An upload or a local delete holds the key: demoting it now would hand a queued job a key whose local copy the
  // eviction is taking away, or a second upload beside the running one. That work finishes the generation itself.
  if (_held(record, now)) return { next: undefined, result: record };
  const next: FlagRecord = { ...record, state: "queued", attempts: 0, updatedAt: now };
  delete next.error;
  return { next, result: next };
}

export function _claim(
  record: FlagRecord | null,
  generation: number,
  token: string,
  leaseMs: number,
  now: number,
): Transition<ClaimResult> {
  if (!record || record.generation !== generation || record.state === "removed") {
    return { next: undefined, result: { status: "stale", record } };
  }
  if (record.state === "remote") return { next: undefined, result: { status: "already-remote", record } };
  if (_leaseLive(record, now) && record.lease !== token) {
    return { next: undefined, result: { status: "busy", record } };
  }
  const renewing = record.lease === token && record.state === "transferring";
  const next: FlagRecord = {
    ...record,
    state: "transferring",
    attempts: renewing ? record.attempts : record.attempts + 1,
    lease: token,
    leaseUntil: now + leaseMs,
    updatedAt: now,
  };
  return { next, result: { status: "claimed", record: next } };
}

export function _renew(record: FlagRecord | null, token: string, leaseMs: number, now: number): Transition<FlagRecord | null> {
  if (!record || !token || record.lease !== token) return { next: undefined, result: null };
  const next: FlagRecord = { ...record, leaseUntil: now + leaseMs };
  if (record.evictUntil) next.evictUntil = now + leaseMs;
  return { next, result: next };
}

export function _settle(
  record: FlagRecord | null,
  generation: number,
  token: string,
  evictMs: number | undefined,
  now: number,
): Transition<SettleResult> {
  if (!record) return { next: undefined, result: { status: "stale", record: null } };
  const owned = record.lease === token;
  if (record.generation !== generation || record.state === "removed") {
    // Our upload may have landed after a newer write or a removal: release the key either way.
    const next = owned ? { ..._withoutLease(record), updatedAt: now } : undefined;
    return { next, result: { status: "stale", record: next ?? record } };
  }
  const next: FlagRecord = { ..._withoutLease(record), state: "remote", updatedAt: now };
  delete next.error;
  if (evictMs && (owned || !_leaseLive(record, now))) {
    // The local delete holds the key until it really ends (evicted): writers and newer transfers wait for it.
    next.lease = token;
    next.leaseUntil = now + evictMs;
    next.evictUntil = now + evictMs;
  } else if (!owned && _leaseLive(record, now)) {
    // Our lease lapsed and another transfer of this generation holds the key now: leave it its lease.
    next.lease = record.lease;
    next.leaseUntil = record.leaseUntil;
  }
  return { next, result: { status: "remote", record: next } };
}

export function _release(
  record: FlagRecord | null,
  generation: number,
  token: string,
  error: string | undefined,
  final: boolean,
  now: number,
): Transition<FlagRecord | null> {
  if (!record) return { next: undefined, result: null };
  const base = record.lease === token ? _withoutLease(record) : { ...record };
  if (record.generation !== generation || record.state === "removed" || record.state === "remote") {
    const next = base.lease === record.lease ? undefined : { ...base, updatedAt: now };
    return { next, result: next ?? record };
  }
  const next: FlagRecord = { ...base, state: final ? "failed" : "queued", updatedAt: now };
  if (error !== undefined) next.error = error;
  return { next, result: next };
}

export function _evicted(record: FlagRecord | null, token: string): Transition<void> {
  if (!record || !token || record.lease !== token) return { next: undefined, result: undefined };
  const { evictUntil: _e, ...rest } = record;
  return { next: _withoutLease(rest), result: undefined };
}

export function _rollback(
  record: FlagRecord | null,
  generation: number,
  previous: FlagRecord | null,
  now: number,
): Transition<boolean> {
  if (!record || record.generation !== generation) return { next: undefined, result: false };
  // What runs now (an upload's lease, an eviction's mark) is kept; what `previous` remembered of them is stale.
  const { lease: _l, leaseUntil: _u, evictUntil: _e, ...restored } = previous ?? ({} as FlagRecord);
  const live: Partial<FlagRecord> = {};
  if (_leaseLive(record, now)) Object.assign(live, { lease: record.lease, leaseUntil: record.leaseUntil });
  if ((record.evictUntil ?? 0) > now) live.evictUntil = record.evictUntil;
  if (!previous) {
    // No record before: gone, unless something still holds the key (then a tombstone, forgotten once it lets go).
    if (!live.lease && !live.evictUntil) return { next: null, result: true };
    return { next: { state: "removed", generation, attempts: 0, updatedAt: now, ...live }, result: true };
  }
  const next: FlagRecord = { ...(restored as FlagRecord), ...live };
  // Its upload ended while we wrote (it saw our generation and let go): the restored generation needs a new job.
  if (next.state === "transferring" && !live.lease) next.state = "queued";
  return { next, result: true };
}

export function _remove(previous: FlagRecord | null, now: number, floor = 0): Transition<FlagRecord> {
  const record = _newGeneration(previous, "removed", now, floor);
  return { next: record, result: record };
}

export function _forget(record: FlagRecord | null, generation: number, now: number): Transition<boolean> {
  if (!record || record.state !== "removed" || record.generation !== generation) {
    return { next: undefined, result: false };
  }
  if (_held(record, now)) return { next: undefined, result: false };
  return { next: null, result: true };
}

/** What `clear(base)` does to one record: tombstone it while a transfer holds it (see `_held`), else delete it. */
export function _clearOne(record: FlagRecord | null, now: number): Transition<void> {
  if (!record) return { next: undefined, result: undefined };
  if (_held(record, now)) return { next: _remove(record, now).next, result: undefined };
  return { next: null, result: undefined };
}

/** The public view of a record. */
export function _toStatus(record: FlagRecord | null): import("../types.ts").TransferStatus | null {
  if (!record || record.state === "removed") return null;
  const status: import("../types.ts").TransferStatus = {
    state: record.state,
    generation: record.generation,
    attempts: record.attempts,
    updatedAt: record.updatedAt,
  };
  if (record.error !== undefined) status.error = record.error;
  return status;
}
