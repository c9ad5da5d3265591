import type { Driver, Storage } from "unstorage";
import type { FlagStore, ResolvedQueuedStorageOptions, Task, TransferQueue } from "./types.ts";

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
  /** Aborted on dispose; its signal is handed to tasks. */
  abort: AbortController;
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
