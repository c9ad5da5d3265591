// The user-facing types: options, controls and what they answer. The plug-in contracts (FlagStore, TransferQueue,
// Task and their vocabulary) are in contracts.ts.
import type { Driver } from "unstorage";
import type { FlagStore, ListQuery, Task, TransferJob, TransferOutcome, TransferQueue, TransferState, TransferStats } from "./contracts.ts";

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
  /**
   * When a write resolves. `"queued"`: once its intent is recorded, its bytes are stored locally and its transfer job
   * is queued (a QStash publish is one more round trip, often the farthest one). `"stored"`: once the intent is
   * recorded and the bytes are stored; the job is published in the background right after (concurrent writes share
   * one batch), retried on failure (4 attempts over ~5 s, then recorded on the key so that `sync()` queues it), and
   * handed to `waitUntil` so that serverless runtimes keep the instance alive for it. `drain()` and `dispose()` wait
   * for background publishes. What it costs: the write no longer rejects when the queue is down (the key is `queued`
   * with an error, `sync()` redoes it), and a process killed within ~10 ms of the acknowledgement leaves a key that
   * `sync()` queues only after `leaseMs` (docs/2.production.md). With `memoryQueue()` both are the same.
   * @default "queued"
   * @example acknowledge: "stored"
   */
  acknowledge?: "queued" | "stored";
  /**
   * Keeps a serverless instance alive until a background publish (`acknowledge: "stored"`) ended: Vercel's
   * `waitUntil` from `@vercel/functions`, or per write `setItem(key, value, { waitUntil: ctx.waitUntil })` (Workers'
   * `ExecutionContext`, Netlify's `context`, h3's `event`), which wins over this one. Not needed on long-lived servers.
   * @example waitUntil: (promise) => ctx.waitUntil(promise)
   */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * Milliseconds a read may reuse a `remote` record this instance read before, instead of asking the flag store
   * (one round trip saved per read of a hot key; the flag store is asked again after that). This instance's own
   * writes and removals forget the record before they start, so its reads are never stale; a write or removal
   * through **another** instance is seen up to this long late (a read may still return the previous value, or miss
   * a removed key's removal). `0` turns it off.
   * @default 0
   * @example readCacheMs: 1000
   */
  readCacheMs?: number;
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

/** Options after defaults are applied. Internal: used by the core, not exported from the package. */
export interface ResolvedQueuedStorageOptions {
  local: Driver;
  remote: Driver;
  queue: TransferQueue;
  flags: FlagStore;
  task: Task;
  delayed: boolean;
  acknowledge: "queued" | "stored";
  readCacheMs: number;
  waitUntil?: (promise: Promise<unknown>) => void;
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

/** What `retry(query)` takes: every key in that state (under `prefix`). */
export interface RetryQuery {
  state: "failed";
  prefix?: string;
}
