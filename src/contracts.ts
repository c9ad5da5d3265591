// The plug-in contracts: what a flag store, a transfer queue or a task implements, and the vocabulary they share
// (states, records, jobs, outcomes). The user-facing options and controls are in types.ts.
import type { Storage } from "unstorage";

/** Where a key's bytes are, as far as the transfer is concerned. */
export type TransferState = "local" | "queued" | "transferring" | "remote" | "failed";

/**
 * The record kept per key in a {@link FlagStore}. `removed` is a tombstone: it exists only while a removal is
 * being finished (or a transfer that was in flight when the key was removed is still running).
 */
export interface FlagRecord {
  state: TransferState | "removed";
  /** Bumped by every write and remove. Strictly increasing per key, also across removals (clock based). */
  generation: number;
  /** Transfer attempts of this generation. */
  attempts: number;
  /** Last transfer error of this generation. */
  error?: string;
  /** Epoch milliseconds of the last change. */
  updatedAt: number;
  /** Token of the transfer that currently holds the key (one transfer per key at a time). */
  lease?: string;
  /** Epoch ms until which {@link lease} is held; a crashed holder's lease lapses then. */
  leaseUntil?: number;
  /** Epoch ms until which a local copy is being deleted after a transfer; writes wait for it. */
  evictUntil?: number;
  /**
   * How this generation was written: `text` by `setItem`, `raw` by `setItemRaw`. Set by `begin`, so the transfer
   * knows how to copy without another round trip. Absent on records of older versions: copied raw.
   */
  kind?: ValueKind;
  /**
   * The generation this write replaced; `0` when the store knew no earlier value (no record, or a removal's tombstone):
   * the remote then holds no object of the key but, at most, a stale upload that landed after the removal, so a fenced
   * transfer skips its HeadObject and reads never fall back to the remote. Absent on records of older versions.
   */
  replaced?: number;
  /**
   * Set only by writes acknowledged once their bytes are stored (`acknowledge: "stored"`), whose job is published in
   * the background: `storing` from the intent until the bytes landed, then `stored` (see {@link FlagStore.landed}).
   * `sync()` queues a never-transferred `stored` generation at once (its publish may never have happened), and leaves a
   * `storing` one to its writer. Absent on records of awaited writes and of older versions.
   */
  bytes?: "storing" | "stored";
}

/** How a value was written, and so how it is transferred: `text` (`setItem`) or `raw` (`setItemRaw`). */
export type ValueKind = "text" | "raw";

/** A transfer job. It carries the key and the generation it was queued for, never bytes, URLs or credentials. */
export interface TransferJob {
  key: string;
  generation: number;
}

/** Outcome of trying to take the key for a transfer. */
export type ClaimResult =
  | { status: "claimed"; record: FlagRecord }
  | { status: "stale"; record: FlagRecord | null }
  | { status: "already-remote"; record: FlagRecord }
  | { status: "busy"; record: FlagRecord };

/** Outcome of settling a transfer that uploaded its bytes. */
export type SettleResult =
  | { status: "remote"; record: FlagRecord }
  | { status: "stale"; record: FlagRecord | null };

/**
 * Per-key transfer state. Every method is one atomic step (one round trip for remote stores), so concurrent
 * writers, transfers and removals on many instances stay consistent.
 */
export interface FlagStore {
  readonly name: string;
  /** The record of `key`, or `null`. */
  get(key: string): Promise<FlagRecord | null>;
  /**
   * Write intent: bump the generation, state `queued` (or `local` when delayed). Returns the new and the previous
   * record. With `storing`, the record says so (`bytes: "storing"`) until {@link landed}.
   */
  begin(
    key: string,
    options: { delayed: boolean; kind?: ValueKind; storing?: boolean },
  ): Promise<{ record: FlagRecord; previous: FlagRecord | null }>;
  /**
   * The bytes of these `[key, generation]` writes are stored locally: a record still of that generation and
   * `bytes: "storing"` becomes `bytes: "stored"`; any other is left alone. Many keys in one step; a remote store may
   * hold the marks back for a few ms to send them with its next request. Stores without it never see `storing`.
   */
  landed?(marks: Array<[string, number]>): Promise<void>;
  /**
   * Mark a key `queued` again for its current generation (`transfer(key)`, `sync()`); with `generation`, only if that
   * is still the current one. `null` when there is nothing to queue (no record, a tombstone, another generation).
   * A record that a transfer or an eviction holds (a live lease or eviction mark) is returned unchanged: it is
   * never demoted while that work runs, and the work finishes the generation itself.
   */
  requeue(key: string, generation?: number): Promise<FlagRecord | null>;
  /** Take the key for transferring `generation`; the same token renews its own lease. */
  claim(key: string, generation: number, lease: { token: string; ms: number }): Promise<ClaimResult>;
  /**
   * Extend the lease held by `token` by `ms`, whatever the generation now is: the lease belongs to the running upload
   * or local delete, not to the generation it started with. Also extends a running eviction's mark. `null` when the
   * token no longer holds the key (the lease lapsed and another took it, or it was released).
   */
  renew(key: string, token: string, ms: number): Promise<FlagRecord | null>;
  /**
   * Compare-and-set to `remote` if the generation is still `generation`; releases the lease. With `evictMs`, the
   * lease is kept (and renewed by the same token) while the local copy is deleted, and the key is marked as evicting
   * until `evicted(key, token)`.
   */
  settle(key: string, generation: number, token: string, options?: { evictMs?: number }): Promise<SettleResult>;
  /** Release the lease after a failed attempt, recording the error; `final` marks the key `failed`. */
  release(key: string, generation: number, token: string, options: { error?: string; final?: boolean }): Promise<FlagRecord | null>;
  /** The local delete of `token` finished: clear the eviction mark and release its lease. */
  evicted(key: string, token: string): Promise<void>;
  /**
   * A write failed before its bytes were stored: if the record is still of `generation`, put `previous` back (`null`
   * deletes the record). A lease or eviction mark that is live now stays, whatever `previous` says. `true` when rolled back.
   */
  rollback(key: string, generation: number, previous: FlagRecord | null): Promise<boolean>;
  /** Tombstone: bump the generation and mark the key `removed`. */
  remove(key: string): Promise<FlagRecord>;
  /** Drop a tombstone of `generation` unless a transfer still holds the key. */
  forget(key: string, generation: number): Promise<boolean>;
  /** Every record that is not `remote`: `[key, record]` pairs, for `sync()`. */
  pending(): Promise<Array<[string, FlagRecord]>>;
  /** Remove the state of every key under `base` (all keys when empty): tombstones where a transfer holds the key. */
  clear(base?: string): Promise<void>;
  // --- operations (issue 21): see src/flags/_counts.ts and src/core/operations.ts ---
  /** Counts per state and the oldest unfinished write, of the keys starting with `base` (all when empty). */
  stats?(base?: string): Promise<TransferStats>;
  /** A page of records by key order, O(page): `prefix` is the full state-key prefix. Rejects a bad limit or cursor. */
  list?(query: ListQuery): Promise<FlagPage>;
  /** Rebuild what `stats()` and `list()` read from the records (after an upgrade from a version without them). */
  reindex?(): Promise<void>;
  dispose?(): Promise<void> | void;
}

/** What the storage hands to a queue so that the queue can run jobs in process. */
export interface TransferConsumer {
  /** Run one job. Resolves to the outcome; rejects when the attempt failed and should be retried. */
  handle(job: TransferJob): Promise<TransferOutcome>;
  /** Retries are exhausted: mark the key `failed`. */
  fail(job: TransferJob, error: unknown): Promise<void>;
}

/** How a job is enqueued. */
export interface EnqueueOptions {
  /**
   * A deliberate redo (`transfer(key)`, `sync()`, a rollback): it must run even if an earlier delivery of the same
   * job is still held by the queue service, so a deduplicating queue (QStash) gives it an id of its own.
   */
  redo?: boolean;
}

/** A queue of transfer jobs: in process ({@link TransferQueue} from `memoryQueue`) or QStash. */
export interface TransferQueue {
  readonly name: string;
  /**
   * Called once by the storage; in-process queues keep the consumer and take the storage's `retries` and
   * `retryDelay` as defaults, remote queues may ignore it.
   */
  attach?(consumer: TransferConsumer, defaults?: { retries: number; retryDelay: number }): void;
  enqueue(job: TransferJob, options?: EnqueueOptions): Promise<void>;
  /** Enqueue many jobs at once (batches where the service allows it). */
  enqueueMany?(jobs: TransferJob[], options?: EnqueueOptions): Promise<void>;
  /** Resolve when nothing is pending or running in this process. */
  drain?(): Promise<void>;
  dispose?(): Promise<void> | void;
}

/** What one job did. `busy` means another transfer holds the key: try again shortly. */
export type TransferOutcome =
  | "transferred"
  | "stale"
  | "already-remote"
  | "busy";

/** What a task gets: the key, the generation and both tiers as unstorage Storage instances. */
export interface TaskContext {
  key: string;
  generation: number;
  /**
   * How the generation was written: `text` (`setItem`: copy the stored string with `getItem`/`setItem` of the
   * drivers) or `raw` (`setItemRaw`: copy bytes or a stream). `undefined` for records written before kinds were
   * recorded: copy raw.
   */
  kind?: ValueKind;
  /**
   * No earlier generation of the key was known when it was written: the remote most likely holds nothing for it. A
   * hint only (the flags may have been cleared): the default tasks then commit with `If-None-Match: *` at once and
   * look at the remote only when that fails.
   */
  fresh?: boolean;
  local: Storage;
  remote: Storage;
  /** Aborted when the transfer lost its lease (another may hold the key now) or the storage was disposed. */
  signal: AbortSignal;
}

/** A transfer task: `run` returns `true` (done) or `false` (retry); throwing also retries, with the error recorded. */
export interface Task {
  readonly name: string;
  run(context: TaskContext): Promise<boolean> | boolean;
  /** Remove the local copy once the remote holds this generation (`transferAndDelete`). */
  readonly deleteLocal?: boolean;
}

// --- operations (issue 21) ---

/** Keys per state (tombstones of removed keys are not counted). */
export interface TransferCounts {
  local: number;
  queued: number;
  transferring: number;
  remote: number;
  failed: number;
}

/** What `stats()` answers. */
export interface TransferStats {
  counts: TransferCounts;
  /**
   * The unfinished write (`local`, `queued`, `transferring` or `failed`) that began first: its key, the `updatedAt` of
   * its record and `since`, when the write began (epoch ms). `null` when every key is `remote`.
   */
  oldestPending: { key: string; updatedAt: number; since: number } | null;
}

/** What `list()` takes. */
export interface ListQuery {
  /** Only keys in this state. Default: every state. */
  state?: TransferState;
  /** Only keys starting with this text (`/` read as `:`). @example "avatars:" */
  prefix?: string;
  /** The `cursor` of the previous page. */
  cursor?: string;
  /** Keys per page, 1 to 1000. @default 100 */
  limit?: number;
}

/** A page of a FlagStore's `list()`: state keys and records. */
export interface FlagPage {
  items: Array<[string, FlagRecord]>;
  cursor: string | null;
}
