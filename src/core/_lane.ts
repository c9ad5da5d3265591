import { _serial, type _Serial } from "../_serial.ts";
import type { FlagStore } from "../contracts.ts";

// What this process knows about the work on each key, shared by every storage over the same FlagStore (two storages
// over one memoryFlags are one key space):
// - the lane: work on a key's tiers that must happen in generation order runs in it, one step after another: a write's
//   intent and local put, a removal's tombstone and deletes, the decisions of transfer(), transferNow() and sync();
// - the evictions in flight: transferAndDelete's local deletes. A write waits for one that runs here until the delete
//   call has really returned, even when its lease lapsed meanwhile (a stalled event loop, a delete slower than the
//   lease); the eviction mark in the state store covers evictions running in other processes.
// Uploads are not in the lane: they are fenced by the key's lease in the state store, which holds across processes.

/** This process's work on the keys of one FlagStore. */
export interface _KeyWork {
  lane: _Serial;
  evictions: Map<string, Promise<unknown>>;
}

const _work = new WeakMap<FlagStore, _KeyWork>();

export function _keyWorkOf(flags: FlagStore): _KeyWork {
  let work = _work.get(flags);
  if (!work) _work.set(flags, (work = { lane: _serial(), evictions: new Map() }));
  return work;
}

/** Run `evict` (a local delete) and keep it findable under `flagKey` until it settled. */
export function _trackEviction<R>(work: _KeyWork, flagKey: string, evict: () => Promise<R>): Promise<R> {
  const running = evict();
  const previous = work.evictions.get(flagKey);
  const tracked: Promise<unknown> = previous ? Promise.allSettled([previous, running]) : running.catch(() => {});
  work.evictions.set(flagKey, tracked);
  void tracked.then(() => work.evictions.get(flagKey) === tracked && work.evictions.delete(flagKey));
  return running;
}
