import type { Driver } from "unstorage";
import type { FlagStore } from "../contracts.ts";
import { _normalizeKey } from "../_keys.ts";
import { _applyingStore } from "./_applying.ts";
import { _ownership } from "./_owner.ts";
import { _error } from "../_errors.ts";

export interface StorageFlagsOptions {
  /**
   * Key prefix of the records inside the driver, so the driver can hold other data too.
   * @default "queued-storage:state"
   */
  base?: string;
}

/**
 * Transfer state kept in any unstorage driver, one JSON record per key. With an fs driver the embedded default
 * survives a restart: `sync()` in the new process finds every interrupted transfer.
 * For one process: its transitions are atomic within the process. A second live instance over the same state (another
 * process of a cluster, a container on the same volume, a second store in this process) is refused at its first
 * write with an error naming `upstashFlags()`, which is what many instances sharing state need. The owner record is
 * created atomically on queued-storage/drivers/fs (create-only); on other drivers the check is best effort. A crashed
 * owner on this host is taken over at once, one on another host after 30 s.
 *
 * @example
 * import fsDriver from "queued-storage/drivers/fs";
 * const flags = storageFlags(fsDriver({ base: "./.data/state" }));
 */
export function storageFlags(driver: Driver, options: StorageFlagsOptions = {}): FlagStore {
  if (!driver || typeof driver.getItem !== "function" || typeof driver.setItem !== "function") {
    throw _error("storageFlags(driver): `driver` must be a writable unstorage driver", { type: TypeError, retryable: false });
  }
  const base = (options.base ?? "queued-storage:state").replace(/:+$/, "");
  const toDriverKey = (key: string): string => `${base}:${key}`;
  const store = _applyingStore({
    name: `storage:${driver.name ?? "driver"}`,
    async read(key) {
      const value = await driver.getItem(toDriverKey(key), {});
      if (value === null || value === undefined) return null;
      return typeof value === "string" ? value : JSON.stringify(value);
    },
    async write(key, value) {
      if (value === null) await driver.removeItem?.(toDriverKey(key), {});
      else await driver.setItem!(toDriverKey(key), value, {});
    },
    async keys(prefix) {
      const listBase = prefix ? `${base}:${prefix.replace(/:+$/, "")}` : base;
      // Drivers may ignore the base and answer with `/` separators (unstorage's fs does both).
      const keys = (await driver.getKeys(`${listBase}:`, {})).map(_normalizeKey);
      const start = `${base}:`;
      return keys.filter((k) => k.startsWith(start)).map((k) => k.slice(start.length));
    },
    dispose: () => driver.dispose?.(),
  });
  // Beside the records, outside their key space: the instance that owns this state (see _owner.ts).
  const owner = _ownership(driver, `${base}-owner`);
  const owned = <A extends unknown[], R>(op: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await owner.acquire();
      return op(...args);
    };
  return {
    ...store,
    begin: owned(store.begin),
    requeue: owned(store.requeue),
    claim: owned(store.claim),
    renew: owned(store.renew),
    settle: owned(store.settle),
    release: owned(store.release),
    evicted: owned(store.evicted),
    rollback: owned(store.rollback),
    remove: owned(store.remove),
    forget: owned(store.forget),
    landed: owned(store.landed!),
    clear: owned(store.clear),
    async dispose() {
      await owner.release();
      await store.dispose?.();
    },
  };
}
