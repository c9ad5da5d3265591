import type { FlagPage, FlagRecord, ListQuery, TransferStats } from "../contracts.ts";
import { _cursorAfter, _listArgs, _UNFINISHED } from "./_listing.ts";

/** What the index keeps per key: enough for counts, the oldest unfinished write and pages in key order. */
interface _Entry {
  state: string;
  /** Epoch ms the write began (its clock-based generation). */
  since: number;
  updatedAt: number;
}

/**
 * The index of an applying store. `cached` (memoryFlags: no other process can change its records): built from the
 * records on first use, then kept by every transition of this process (`track`, called under the key's lock with the
 * record just written); `locked` runs a callback with one record under that same lock, so a transition racing the
 * build leaves its entry. Not cached (storageFlags: the CLI or a restarted process may change the records behind this
 * one's back): built afresh from the records for every call, O(records).
 */
export interface _Index {
  track(key: string, record: FlagRecord | null): void;
  stats(base?: string): Promise<TransferStats>;
  list(query: ListQuery): Promise<FlagPage>;
  rebuild(): Promise<void>;
}

export function _createIndex(
  keys: () => Promise<string[]> | string[],
  load: (key: string) => Promise<FlagRecord | null>,
  locked: (key: string, use: (record: FlagRecord | null) => void) => Promise<void>,
  cached = true,
): _Index {
  let entries: Map<string, _Entry> | undefined;
  let building: Promise<Map<string, _Entry>> | undefined;

  function track(key: string, record: FlagRecord | null): void {
    if (!entries) return;
    if (!record || record.state === "removed") entries.delete(key);
    else entries.set(key, _entryOf(record));
  }

  function ready(): Promise<Map<string, _Entry>> {
    if (!cached) return fresh();
    if (building) return building;
    entries = new Map();
    const map = entries;
    building = (async () => {
      for (const key of await keys()) await locked(key, (record) => track(key, record));
      return map;
    })();
    building.catch(() => (building = entries = undefined));
    return building;
  }

  async function fresh(): Promise<Map<string, _Entry>> {
    const map = new Map<string, _Entry>();
    const all = await keys();
    // A few reads at a time: one open file each on fs.
    for (let i = 0; i < all.length; i += 32) {
      const batch = all.slice(i, i + 32);
      const records = await Promise.all(batch.map(load));
      records.forEach((record, j) => record && record.state !== "removed" && map.set(batch[j]!, _entryOf(record)));
    }
    return map;
  }

  return {
    track,
    async stats(base = "") {
      const counts = { local: 0, queued: 0, transferring: 0, remote: 0, failed: 0 };
      let oldest: TransferStats["oldestPending"] = null;
      for (const [key, entry] of await ready()) {
        if (!key.startsWith(base)) continue;
        counts[entry.state as keyof typeof counts]++;
        if (_UNFINISHED.has(entry.state) && (!oldest || entry.since < oldest.since)) {
          oldest = { key, updatedAt: entry.updatedAt, since: entry.since };
        }
      }
      return { counts, oldestPending: oldest };
    },
    async list(query) {
      const { state, prefix, after, limit } = _listArgs(query);
      const matching: string[] = [];
      for (const [key, entry] of await ready()) {
        if (key.startsWith(prefix) && (!after || _byteOrder(key, after) > 0) && (!state || entry.state === state)) {
          matching.push(key);
        }
      }
      matching.sort(_byteOrder);
      const items: Array<[string, FlagRecord]> = [];
      let last = "";
      for (const key of matching) {
        if (items.length === limit) return { items, cursor: _cursorAfter(last) };
        last = key;
        const record = await load(key);
        if (record && record.state !== "removed" && (!state || record.state === state)) items.push([key, record]);
      }
      return { items, cursor: null };
    },
    async rebuild() {
      building = entries = undefined;
      await ready();
    },
  };
}

function _entryOf(record: FlagRecord): _Entry {
  return { state: record.state, since: Math.floor(record.generation / 1000), updatedAt: record.updatedAt };
}

/** Orders keys as Redis orders members of equal score (bytes of UTF-8), so every store pages alike. */
export function _byteOrder(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 order is UTF-8 byte order unless a surrogate pair meets a character above it in the BMP.
  if (!/[\ud800-\uffff]/.test(a + b)) return a < b ? -1 : 1;
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

