import type { FlagRecord, FlagStore } from "../contracts.ts";
import * as t from "./_transitions.ts";
import { _serial } from "../_serial.ts";
import { _error } from "../_errors.ts";
import { _createIndex } from "./_counts.ts";

/** Where an applying store keeps serialized records. */
export interface _RecordBackend {
  name: string;
  read(key: string): string | null | Promise<string | null>;
  /** `null` deletes. */
  write(key: string, value: string | null): void | Promise<void>;
  keys(base?: string): string[] | Promise<string[]>;
  dispose?(): void | Promise<void>;
  /** Records change only through this store (memory): stats() and list() may keep an index in process. */
  exclusive?: boolean;
}

/**
 * A FlagStore that applies the pure transitions to records it reads and writes through a backend.
 * Transitions on one key are serialized in this process, which makes them atomic for a single process;
 * state shared by several processes needs a store with server-side atomicity (upstashFlags).
 */
export function _applyingStore(backend: _RecordBackend): FlagStore {
  const locked = _serial();

  async function read(key: string): Promise<FlagRecord | null> {
    const raw = await backend.read(key);
    if (raw === null || raw === undefined) return null;
    try {
      return typeof raw === "string" ? (JSON.parse(raw) as FlagRecord) : (raw as FlagRecord);
    } catch {
      throw _error(
        `corrupt state record for key "${key}": a torn write? ` +
          "Keep state in a driver with atomic writes (queued-storage/drivers/fs, not unstorage's fs)",
        { scope: `flags:${backend.name}`, key },
      );
    }
  }

  function apply<R>(key: string, step: (record: FlagRecord | null, now: number) => t.Transition<R>): Promise<R> {
    return locked(key, async () => {
      const { next, result } = step(await read(key), Date.now());
      if (next !== undefined) await backend.write(key, next === null ? null : JSON.stringify(next));
      if (next !== undefined) index.track(key, next);
      return result;
    });
  }
  // stats() and list() (issue 21): an index kept in process (memory) or read from the records per call (see _counts.ts).
  const index = _createIndex(
    () => backend.keys(),
    read,
    (key, use) => locked(key, async () => use(await read(key))),
    backend.exclusive === true,
  );

  // The highest generation this store issued, passed to the transitions as their floor (see _nextGeneration):
  // Date.now() has ms resolution, so remove + forget + begin within one ms would otherwise reuse a generation.
  let issued = 0;
  function issuing<R>(transition: t.Transition<R>, generation: number): t.Transition<R> {
    issued = Math.max(issued, generation);
    return transition;
  }

  return {
    name: backend.name,
    get: (key) => read(key),
    begin: (key, { delayed, kind, storing }) =>
      apply(key, (r, now) => {
        const transition = t._begin(r, delayed, now, issued, kind, storing);
        return issuing(transition, transition.result.record.generation);
      }),
    requeue: (key, generation) => apply(key, (r, now) => t._requeue(r, now, generation)),
    claim: (key, generation, lease) => apply(key, (r, now) => t._claim(r, generation, lease.token, lease.ms, now)),
    renew: (key, token, ms) => apply(key, (r, now) => t._renew(r, token, ms, now)),
    rollback: (key, generation, previous) => apply(key, (r, now) => t._rollback(r, generation, previous, now)),
    settle: (key, generation, token, options) =>
      apply(key, (r, now) => t._settle(r, generation, token, options?.evictMs, now)),
    release: (key, generation, token, { error, final }) =>
      apply(key, (r, now) => t._release(r, generation, token, error, !!final, now)),
    evicted: (key, token) => apply(key, (r) => t._evicted(r, token)),
    remove: (key) =>
      apply(key, (r, now) => {
        const transition = t._remove(r, now, issued);
        return issuing(transition, transition.result.generation);
      }),
    forget: (key, generation) => apply(key, (r, now) => t._forget(r, generation, now)),
    async landed(marks) {
      await Promise.all(marks.map(([key, generation]) => apply(key, (r) => t._landed(r, generation))));
    },
    async pending() {
      const out: Array<[string, FlagRecord]> = [];
      for (const key of await backend.keys()) {
        const record = await read(key);
        if (record && record.state !== "remote") out.push([key, record]);
      }
      return out;
    },
    async clear(base) {
      const keys = await backend.keys(base);
      const prefix = base ? (base.endsWith(":") ? base : `${base}:`) : "";
      await Promise.all(
        keys.filter((k) => k.startsWith(prefix)).map((key) => apply(key, (r, now) => t._clearOne(r, now))),
      );
    },
    stats: (base) => index.stats(base),
    list: (query) => index.list(query),
    reindex: () => index.rebuild(),
    dispose: () => backend.dispose?.(),
  };
}
