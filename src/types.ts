import type { Driver, Storage } from "unstorage";

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
   * The generation this write replaced; `0` when the store knew no earlier one (the remote then most likely holds no
   * object for the key, and a fenced transfer skips its HeadObject). Absent on records of older versions.
   */
  replaced?: number;
}

/** How a value was written, and so how it is transferred: `text` (`setItem`) or `raw` (`setItemRaw`). */
export type ValueKind = "text" | "raw";

/** What `status(key)` answers: the record without its internal lease bookkeeping. */
export interface TransferStatus {
  state: TransferState;
  generation: number;
  attempts: number;
  error?: string;
  updatedAt: number;
  /** While `transferring` in this process: bytes read from the local copy so far, and its size when known (issue 21). */
  progress?: { bytes: number; total?: number };
}

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
  /** Write intent: bump the generation, state `queued` (or `local` when delayed). Returns the new and the previous record. */
  begin(key: string, options: { delayed: boolean; kind?: ValueKind }): Promise<{ record: FlagRecord; previous: FlagRecord | null }>;
  /** Mark a key `queued` again for its current generation (`transfer(key)`, `sync()`). `null` when there is nothing to queue. */
  requeue(key: string): Promise<FlagRecord | null>;
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

/** A queue of transfer jobs: in process ({@link TransferQueue} from `memoryQueue`) or QStash. */
export interface TransferQueue {
  readonly name: string;
  /**
   * Called once by the storage; in-process queues keep the consumer and take the storage's `retries` and
   * `retryDelay` as defaults, remote queues may ignore it.
   */
  attach?(consumer: TransferConsumer, defaults?: { retries: number; retryDelay: number }): void;
  enqueue(job: TransferJob): Promise<void>;
  /** Enqueue many jobs at once (batches where the service allows it). */
  enqueueMany?(jobs: TransferJob[]): Promise<void>;
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

/** Passed to `onTransferred`. */
export interface TransferredEvent {
  key: string;
  generation: number;
  task: string;
  attempts: number;
}

/** Passed to `onFailed`. */
export interface FailedEvent {
  key: string;
  generation: number;
  task: string;
  attempts: number;
  error: string;
}

/** A driver spec resolvable by name, for JSON configuration (Nitro `storage`, env driven setups). */
export interface DriverSpec {
  /** `"fs"`, `"memory"`, another unstorage built-in, `"queued-storage/drivers/s3"`, `"queued-storage/drivers/fs"` or a package name. */
  driver: string;
  [option: string]: unknown;
}

/** Counts reported by `sync()`. */
export interface SyncReport {
  /** Keys queued again (`queued`, `transferring` or `failed`). */
  queued: number;
  /** Removals that were finished (tombstones left by a crash). */
  removed: number;
  /** `local` keys of a delayed storage, left for `transfer(key)`. */
  waiting: number;
  /** Records of writes that never stored their bytes (a crash between intent and local write), dropped. */
  dropped: number;
  /** With `verify`: `remote` keys whose remote object is not the recorded generation, queued again (counted in `queued` too). */
  mismatched?: number;
}

/** Options of `sync()`. */
export interface SyncOptions {
  /**
   * Also check every object on the remote against its record, where the remote can tell which generation it holds
   * (the S3 driver: `x-amz-meta-generation`); costs a listing plus a state read and a HeadObject per key.
   * @default false
   */
  verify?: boolean;
}

/** The controls on a queued storage. */
export interface QueuedStorageControls {
  /** Queue a transfer of `key` now (delayed mode, or to redo one). Resolves to the queued status, or `null` for an unknown key. */
  transfer(key: string): Promise<TransferStatus | null>;
  /** Run the task for `key` inline, bypassing the queue. */
  transferNow(key: string): Promise<TransferOutcome>;
  /** The transfer status of `key`, or `null` when it has none. */
  status(key: string): Promise<TransferStatus | null>;
  /** Queue every key that is `queued`, `transferring` or `failed`, finish interrupted removals. */
  sync(options?: SyncOptions): Promise<SyncReport>;
  /** Resolve when the in-process queue has nothing pending or running. */
  drain(): Promise<void>;
  /** Run one transfer job `{ key, generation }`; what a webhook or worker calls. Rejects when the attempt should be retried. */
  handle(job: TransferJob): Promise<TransferOutcome>;
  /** Mark the job's key `failed` (retries exhausted, dead-lettered); no-op for a stale job. */
  fail(job: TransferJob, reason: unknown): Promise<void>;
  /**
   * A URL a browser can fetch `key` at, for its current generation: the local tier's (option `localUrl`) until the
   * transfer is done, then the remote's (the remote driver's `getUrl`, e.g. an S3 presigned or public URL, else
   * option `remoteUrl`). Does not check that the key exists (like django-queued-storage's `url(name)`); one state
   * read. Rejects naming the key and the missing option when the tier has no URL.
   * @example <img src={await storage.url("avatars:1.png")}>  // "/files/avatars/1.png", later "https://bucket.s3…?X-Amz-Signature=…"
   */
  url(key: string, options?: UrlOptions): Promise<string>;
  // --- operations (issue 21): src/core/operations.ts ---
  /** Counts per state and the oldest unfinished write; one round trip on Upstash, whatever the number of keys. */
  stats(): Promise<TransferStats>;
  /**
   * A page of keys with their status, in key order: `{ items: [[key, status], …], cursor }`; pass `cursor` back for
   * the next page (`null`: last page). Costs O(page). Rejects a limit outside 1..1000 or a cursor it did not issue.
   * @example const { items, cursor } = await storage.list({ state: "failed", limit: 50 });
   */
  list(query?: ListQuery): Promise<ListPage>;
  /** Queue `key` again (or every `failed` key, `{ state: "failed" }`); answers the new statuses. */
  retry(key: string): Promise<TransferStatus | null>;
  retry(query: RetryQuery): Promise<Array<[string, TransferStatus | null]>>;
}

/** Options of `url(key, options)`: passed to the remote driver's `getUrl` (S3: presigned URL settings) and to URL functions. */
export interface UrlOptions {
  /** Seconds a presigned remote URL stays valid. Default: the remote driver's (S3: `presignExpiresIn`, 3600). */
  expiresIn?: number;
  /** Content-Type the remote should answer with (S3 presigned: `response-content-type`). */
  contentType?: string;
  /** Content-Disposition the remote should answer with (S3 presigned: `response-content-disposition`). @example "attachment" */
  contentDisposition?: string;
}

/** What a `localUrl` / `remoteUrl` function gets besides the key. */
export interface UrlContext {
  /** The tier the URL is for. */
  tier: "local" | "remote";
  /** The key's current generation (0 when it has no state record), e.g. for a cache-busting `?v=`. */
  generation: number;
  /** What `url(key, options)` was called with. */
  options: UrlOptions;
}

/**
 * Where a tier's files are reachable by browsers: a base URL or path that the key is appended to as a path
 * (`images:a b.png` → `<base>/images/a%20b.png`), or a function.
 */
export type UrlOption = string | ((key: string, context: UrlContext) => string | Promise<string>);

export type { Driver, Storage };

/** Options of {@link createQueuedStorage} and {@link queuedDriver}. */
export interface QueuedStorageOptions {
  /**
   * The fast, close tier every write lands on first.
   * @example fsDriver({ base: "./.data/uploads" })
   */
  local: Driver | DriverSpec;
  /**
   * The durable, far tier transfers go to.
   * @example s3Driver({ bucket: "uploads", endpoint: "https://s3.eu-central-1.amazonaws.com", region: "eu-central-1" })
   */
  remote: Driver | DriverSpec;
  /** Where transfer jobs go. Default: `memoryQueue()` (in process). */
  queue?: TransferQueue;
  /** Where per-key transfer state lives. Default: `memoryFlags()`; use `storageFlags(fsDriver(...))` to survive restarts, `upstashFlags()` for many instances. */
  flags?: FlagStore;
  /** What a transfer does. Default: `transfer`; `transferAndDelete` removes the local copy afterwards. */
  task?: Task;
  /** Queue nothing on write; call `transfer(key)`. Default: `false`. */
  delayed?: boolean;
  /** Namespace of the state keys, so several queued storages can share one flag store. Default: `""`. */
  prefix?: string;
  /** Retries of a failed transfer before the key is `failed`, for queues that do not set their own. Default: `5`. */
  retries?: number;
  /** Base delay in ms of the exponential retry backoff, for queues that do not set their own. Default: `1000`. */
  retryDelay?: number;
  /**
   * How long (ms) a transfer holds its key before another may take over. The lease belongs to the transfer (its
   * token): renewed every third of it while the upload and the local delete after it run, newer writes notwithstanding.
   * Keep it well above the longest pause a process may take (GC, suspended VM); remotes with conditional writes (the
   * S3 driver) refuse late commits even then. Default: `60_000`.
   */
  leaseMs?: number;
  /** Called once per generation that reached the remote. Errors thrown here are logged, not retried. */
  onTransferred?: (event: TransferredEvent) => void | Promise<void>;
  /** Called when retries are exhausted and the key is `failed`. */
  onFailed?: (event: FailedEvent) => void | Promise<void>;
  /**
   * Where browsers fetch keys that are not (yet) on the remote, for `url(key)`: usually the route of
   * `createFileHandler`. Default: none (`url(key)` rejects for such keys).
   * @example "/files/", "https://app.example.com/files/", (key, { generation }) => `/files/${key.replaceAll(":", "/")}?v=${generation}`
   */
  localUrl?: UrlOption;
  /**
   * Where browsers fetch keys once they are `remote`. Needed for remotes whose driver has no `getUrl` (ours: S3 has
   * one); when set, it wins over the driver's (e.g. a CDN in front of a private bucket). Default: the remote driver's
   * `getUrl`, else none (`url(key)` rejects).
   * @example "https://cdn.example.com/uploads/"
   */
  remoteUrl?: UrlOption;
}

/** Options after defaults are applied. */
export interface ResolvedQueuedStorageOptions {
  local: Driver;
  remote: Driver;
  queue: TransferQueue;
  flags: FlagStore;
  task: Task;
  delayed: boolean;
  prefix: string;
  retries: number;
  retryDelay: number;
  leaseMs: number;
  onTransferred?: (event: TransferredEvent) => void | Promise<void>;
  onFailed?: (event: FailedEvent) => void | Promise<void>;
  localUrl?: UrlOption;
  remoteUrl?: UrlOption;
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

/** A listed key's status: a `failed` one also carries the QStash DLQ id its error names, if any. */
export interface ListedStatus extends TransferStatus {
  dlqId?: string;
}

/** A page of `list()`. */
export interface ListPage {
  items: Array<[string, ListedStatus]>;
  /** Pass it back for the next page; `null` on the last one. */
  cursor: string | null;
}

/** A page of a FlagStore's `list()`: state keys and records. */
export interface FlagPage {
  items: Array<[string, FlagRecord]>;
  cursor: string | null;
}

/** What `retry(query)` takes: every key in that state (under `prefix`). */
export interface RetryQuery {
  state: "failed";
  prefix?: string;
}
