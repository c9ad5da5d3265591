import type { TransferConsumer, TransferJob, TransferQueue } from "../contracts.ts";
import { _error } from "../_errors.ts";

export interface MemoryQueueOptions {
  /**
   * Transfers running at once.
   * @default 4
   */
  concurrency?: number;
  /**
   * Retries after the first failed attempt before the key is marked `failed`. Defaults to the storage's `retries` (5).
   */
  retries?: number;
  /**
   * Base delay in ms of the exponential backoff: attempt n waits about `retryDelay × 2^(n-1)`, with ±50% jitter so that
   * many keys failing together do not retry in lockstep. Defaults to the storage's `retryDelay` (1000).
   */
  retryDelay?: number;
  /**
   * Upper bound in ms of one backoff wait.
   * @default 60_000
   */
  maxRetryDelay?: number;
  /**
   * Delay in ms before a newly queued job may run, e.g. to let a burst of overwrites settle into one transfer.
   * @default 0
   */
  delay?: number;
}

interface _Entry {
  job: TransferJob;
  attempt: number;
  busy: number;
}

/**
 * The in-process queue, the embedded default: bounded concurrency, exponential backoff with jitter, delays, `drain()`.
 * Jobs live in memory: after a crash, `sync()` finds the keys whose transfer did not finish.
 *
 * @example
 * const storage = createQueuedStorage({ local, remote, queue: memoryQueue({ concurrency: 8, retries: 3 }) });
 */
export function memoryQueue(options: MemoryQueueOptions = {}): TransferQueue & {
  /** Jobs waiting (ready or in backoff) and running. */
  size(): { waiting: number; running: number };
} {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  let retries = options.retries ?? 5;
  let retryDelay = options.retryDelay ?? 1000;
  const maxRetryDelay = options.maxRetryDelay ?? 60_000;
  let consumer: TransferConsumer | undefined;
  const ready: _Entry[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  // key:generation of jobs not yet running, so repeated transfer(key) calls do not pile up duplicates.
  const queued = new Set<string>();
  let running = 0;
  let idle: Array<() => void> = [];
  let disposed = false;

  const id = (job: TransferJob): string => `${job.generation}:${job.key}`;

  function later(entry: _Entry, ms: number): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      ready.push(entry);
      pump();
    }, ms);
    timers.add(timer);
  }

  function settleIdle(): void {
    if (running === 0 && ready.length === 0 && timers.size === 0) {
      const waiters = idle;
      idle = [];
      for (const resolve of waiters) resolve();
    }
  }

  async function run(entry: _Entry): Promise<void> {
    queued.delete(id(entry.job));
    try {
      const outcome = await consumer!.handle(entry.job);
      // Another transfer holds the key: come back soon, without spending an attempt.
      if (outcome === "busy") later({ ...entry, busy: entry.busy + 1 }, Math.min(1000, 25 * 2 ** entry.busy));
    } catch (error) {
      const attempt = entry.attempt + 1;
      const permanent = (error as { retryable?: boolean })?.retryable === false;
      if (permanent || attempt > retries) {
        await consumer!.fail(entry.job, error).catch(() => {});
      } else {
        const wait = Math.min(maxRetryDelay, retryDelay * 2 ** (attempt - 1));
        later({ ...entry, attempt }, wait * (0.5 + Math.random()));
      }
    }
  }

  function pump(): void {
    while (!disposed && consumer && running < concurrency && ready.length > 0) {
      const entry = ready.shift()!;
      running++;
      void run(entry).finally(() => {
        running--;
        pump();
        settleIdle();
      });
    }
    settleIdle();
  }

  return {
    name: "memory",
    attach(next, defaults) {
      consumer = next;
      if (defaults) {
        retries = options.retries ?? defaults.retries;
        retryDelay = options.retryDelay ?? defaults.retryDelay;
      }
      pump();
    },
    async enqueue(job) {
      if (disposed) throw _error("the queue was disposed", { scope: "memoryQueue" });
      if (queued.has(id(job))) return;
      queued.add(id(job));
      const entry = { job, attempt: 0, busy: 0 };
      if (options.delay) later(entry, options.delay);
      else {
        ready.push(entry);
        pump();
      }
    },
    async enqueueMany(jobs) {
      for (const job of jobs) await this.enqueue(job);
    },
    drain() {
      if (running === 0 && ready.length === 0 && timers.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
    size: () => ({ waiting: ready.length + timers.size, running }),
    dispose() {
      disposed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      ready.length = 0;
      queued.clear();
      settleIdle();
    },
  };
}
