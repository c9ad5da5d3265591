import { _serial, type _Serial } from "../_serial.ts";
import type { FlagStore } from "../types.ts";

// One lane per state-store key, shared by every storage of this process over the same FlagStore (two storages over
// one memoryFlags are one key space). Work on a key's tiers that must happen in generation order runs in its lane: a
// write's intent and local put, a removal's tombstone and deletes, the decisions of transfer(), transferNow() and
// sync(). Uploads and evictions do not: they are fenced by the key's lease and eviction mark in the state store,
// which also holds across processes.
const _lanes = new WeakMap<FlagStore, _Serial>();

/** The lane runner of a FlagStore. */
export function _laneOf(flags: FlagStore): _Serial {
  let lane = _lanes.get(flags);
  if (!lane) _lanes.set(flags, (lane = _serial()));
  return lane;
}
