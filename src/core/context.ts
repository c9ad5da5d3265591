import { createStorage, type Driver, type Storage } from "unstorage";
import { _error } from "../_errors.ts";
import { _normalizeKey } from "../_keys.ts";
import { _resolveDriver } from "./_resolve.ts";
import { _keyWorkOf, _trackEviction } from "./_lane.ts";
import { _rawSafeDriver } from "./_values.ts";
import { _createOutbox, type _Outbox } from "./_outbox.ts";
import { _createReadCache, type _ReadCache } from "./_read-cache.ts";
import { memoryFlags } from "../flags/memory.ts";
import { memoryQueue } from "../queues/memory.ts";
import { transfer } from "../tasks.ts";
import type { FlagStore, Task, TransferQueue } from "../contracts.ts";
import type { QueuedStorageOptions, ResolvedQueuedStorageOptions } from "../types.ts";

/** What the write, read and transfer paths share: the resolved options and both tiers. */
export interface _Context {
  options: Omit<ResolvedQueuedStorageOptions, "local" | "remote">;
  flags: FlagStore;
  queue: TransferQueue;
  task: Task;
  /** Both tiers, resolved (driver specs are imported on first use) and made raw-safe. */
  tiers(): Promise<_Tiers>;
  /** The state-store key of a storage key (the storage's `prefix` applied). */
  flagKey(key: string): string;
  /** Run `fn` in the key's lane: after, and before, every other lane step of that key in this process (`_lane.ts`). */
  lane<R>(key: string, fn: () => Promise<R>): Promise<R>;
  /** Run a local delete of transferAndDelete, findable by `evicting(key)` until it settled. */
  evict<R>(key: string, fn: () => Promise<R>): Promise<R>;
  /** The local delete of `key` that runs in this process, if any: settles when its delete call has returned. */
  evicting(key: string): Promise<unknown> | undefined;
  /**
   * Set on dispose. Running jobs poll this plain flag (and abort their task's signal): a shared AbortSignal would not
   * do, as on Cloudflare Workers a signal made in one request must not even be read from another.
   */
  disposed: boolean;
  /** Background publishing of the jobs of writes acknowledged once stored (`acknowledge: "stored"`). */
  outbox: _Outbox;
  /** `readCacheMs`: recently read `remote` records; `undefined` when off (the default). */
  readCache: _ReadCache | undefined;
  /** Whether `tiers()` was ever called, so dispose does not import drivers only to dispose them. */
  tiersResolved(): boolean;
}

export interface _Tiers {
  local: Driver;
  remote: Driver;
  /** unstorage Storage instances over the tiers, handed to tasks. */
  localStorage: Storage;
  remoteStorage: Storage;
}

/** Apply the defaults, check the plug-in options, and resolve the tiers lazily (driver specs import on first use). */
export function _createContext(options: QueuedStorageOptions): _Context {
  let tiers: Promise<_Tiers> | undefined;
  const prefix = options.prefix ? _normalizeKey(options.prefix) : "";
  const resolved = {
    queue: options.queue ?? memoryQueue(),
    flags: options.flags ?? memoryFlags(),
    task: options.task ?? transfer,
    delayed: options.delayed === true,
    acknowledge: options.acknowledge ?? "queued",
    readCacheMs: options.readCacheMs ?? 0,
    waitUntil: options.waitUntil,
    prefix,
    retries: options.retries ?? 5,
    retryDelay: options.retryDelay ?? 1000,
    leaseMs: options.leaseMs ?? 60_000,
    onTransferred: options.onTransferred,
    onFailed: options.onFailed,
    localUrl: options.localUrl,
    remoteUrl: options.remoteUrl,
  };
  if (typeof resolved.task?.run !== "function") throw _error("option `task` must be a task ({ name, run })");
  if (typeof resolved.queue?.enqueue !== "function") throw _error("option `queue` must be a queue with enqueue()");
  if (typeof resolved.flags?.begin !== "function") throw _error("option `flags` must be a flag store");
  if (resolved.acknowledge !== "queued" && resolved.acknowledge !== "stored") {
    throw _error(`option \`acknowledge\` must be "queued" or "stored", got ${JSON.stringify(resolved.acknowledge)}`);
  }
  if (!(typeof resolved.readCacheMs === "number" && resolved.readCacheMs >= 0 && Number.isFinite(resolved.readCacheMs))) {
    throw _error(`option \`readCacheMs\` must be a number of milliseconds ≥ 0, got ${JSON.stringify(resolved.readCacheMs)}`);
  }
  if (resolved.waitUntil !== undefined && typeof resolved.waitUntil !== "function") {
    throw _error("option `waitUntil` must be a function (promise) => void");
  }
  const work = _keyWorkOf(resolved.flags);
  const readCache = _createReadCache(resolved.readCacheMs);
  const flagKey = (key: string): string => (prefix ? `${prefix}:${key}` : key);
  return {
    options: resolved,
    flags: resolved.flags,
    queue: resolved.queue,
    task: resolved.task,
    disposed: false,
    outbox: _createOutbox({ queue: resolved.queue, flags: resolved.flags, flagKey }),
    readCache,
    tiersResolved: () => tiers !== undefined,
    flagKey,
    lane: (key, fn) => {
      // Every step that may change the key's record (write, removal, controls, cleanups) runs here: its record is
      // forgotten before (reads under way are not remembered) and after (a read that began meanwhile may have
      // remembered the record it replaced), so no read that begins after the step ended can find an older record.
      if (!readCache) return work.lane(flagKey(key), fn);
      readCache.forget(flagKey(key));
      return work.lane(flagKey(key), fn).finally(() => readCache.forget(flagKey(key)));
    },
    evict: (key, fn) => _trackEviction(work, flagKey(key), fn),
    evicting: (key) => work.evictions.get(flagKey(key)),
    tiers: () =>
      (tiers ??= Promise.all([_resolveDriver("local", options.local), _resolveDriver("remote", options.remote)]).then(
        ([local, remote]) => {
          const safeLocal = _rawSafeDriver(local);
          const safeRemote = _rawSafeDriver(remote);
          return {
            local: safeLocal,
            remote: safeRemote,
            localStorage: createStorage({ driver: safeLocal }),
            remoteStorage: createStorage({ driver: safeRemote }),
          };
        },
      )),
  };
}
