import type { FlagStore } from "../contracts.ts";
import { _applyingStore } from "./_applying.ts";

/**
 * Transfer state kept in this process's memory: the embedded default. Lost on restart; use
 * `storageFlags(fsDriver(...))` when transfers must survive one, `upstashFlags()` for many instances.
 *
 * @example
 * const storage = createQueuedStorage({ local, remote, flags: memoryFlags() });
 */
export function memoryFlags(): FlagStore {
  const records = new Map<string, string>();
  return _applyingStore({
    name: "memory",
    read: (key) => records.get(key) ?? null,
    write: (key, value) => void (value === null ? records.delete(key) : records.set(key, value)),
    keys: () => [...records.keys()],
    exclusive: true,
  });
}
