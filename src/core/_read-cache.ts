import type { FlagRecord } from "../contracts.ts";

/**
 * `readCacheMs`: the `remote` records this instance read recently, so that a read within the bound skips the state
 * round trip. A record is only remembered when no write or removal began in this instance while it was read (the
 * epoch is unchanged: one counter for all keys, so nothing about it can be evicted or reused), and each such
 * operation forgets the key's record before it starts: in this instance a read is never stale. Writes and removals
 * through other instances are seen at most `ms` late.
 */
export interface _ReadCache {
  /** A remembered `remote` record of `flagKey`, if still within the bound. */
  get(flagKey: string): FlagRecord | undefined;
  /** The epoch now: pass it to `remember` after the read. */
  epoch(): number;
  /** Remember a record read at `epoch`, if it is `remote` and nothing of the key began since. */
  remember(flagKey: string, record: FlagRecord | null, epoch: number): void;
  /** A write, removal or control of the key begins here: forget its record, and refuse reads already under way. */
  forget(flagKey: string): void;
  /** `clear()` begins: forget every record. */
  forgetAll(): void;
}

/** At most this many keys are remembered; the oldest go first. */
const MAX_KEYS = 10_000;

export function _createReadCache(ms: number): _ReadCache | undefined {
  if (!(ms > 0)) return undefined;
  const records = new Map<string, { record: FlagRecord; until: number }>();
  let epoch = 0;
  return {
    get(flagKey) {
      const hit = records.get(flagKey);
      if (!hit) return undefined;
      if (hit.until > Date.now()) return hit.record;
      records.delete(flagKey);
      return undefined;
    },
    epoch: () => epoch,
    remember(flagKey, record, readAt) {
      if (record?.state !== "remote" || readAt !== epoch) return;
      records.delete(flagKey);
      records.set(flagKey, { record, until: Date.now() + ms });
      if (records.size > MAX_KEYS) records.delete(records.keys().next().value!);
    },
    forget(flagKey) {
      records.delete(flagKey);
      epoch++;
    },
    forgetAll() {
      records.clear();
      epoch++;
    },
  };
}
