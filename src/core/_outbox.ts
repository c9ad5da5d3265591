import { _messageOf } from "../_errors.ts";
import type { FlagStore, TransferJob, TransferQueue } from "../contracts.ts";

/**
 * Background publishing of the jobs of writes acknowledged once their bytes are stored (`acknowledge: "stored"`).
 * Jobs that wait while publishes are in flight go out together (`enqueueMany`: one QStash `/v2/batch`), so under load
 * a write costs a fraction of a publish. Every job is published after its bytes landed (the writer calls `send` after
 * its local put), so no delivery can find older bytes. A publish that fails is retried; one that never succeeds is
 * recorded on the key (`error`), so that `sync()` queues it at once.
 */
export interface _Outbox {
  /** Mark `generation` of `key` landed and publish its job in the background; `waitUntil` gets the whole of it. */
  send(key: string, generation: number, waitUntil?: (promise: Promise<unknown>) => void): void;
  /** Whether this process is still publishing that job (so `sync()` does not queue a second one). */
  sending(key: string, generation: number): boolean;
  /** Resolves once every job handed to `send` so far was published or recorded as not published. */
  settled(): Promise<void>;
}

export interface _OutboxOptions {
  queue: TransferQueue;
  flags: FlagStore;
  flagKey(key: string): string;
  /** Publishes in flight at once; jobs sent meanwhile wait and go out in one batch. */
  inFlight?: number;
  /** Delays (ms) before each retry of a failed publish. */
  retryDelays?: number[];
}

/** Jobs per batch publish (QStash takes 100 messages per `/v2/batch` comfortably). */
const BATCH = 100;

export function _createOutbox(options: _OutboxOptions): _Outbox {
  const { queue, flags, flagKey } = options;
  const maxInFlight = options.inFlight ?? 4;
  const retryDelays = options.retryDelays ?? [250, 1000, 4000];
  const waiting: Array<{ job: TransferJob; done: () => void }> = [];
  const sending = new Set<string>();
  const running = new Set<Promise<unknown>>();
  let inFlight = 0;
  let scheduled = false;

  const id = (key: string, generation: number): string => `${generation}:${key}`;

  function flush(): void {
    scheduled = false;
    while (inFlight < maxInFlight && waiting.length > 0) {
      const batch = waiting.splice(0, BATCH);
      inFlight++;
      void _publish(queue, batch.map((w) => w.job), retryDelays)
        .then(
          () => {},
          (cause: unknown) =>
            Promise.all(batch.map(({ job }) => _recordNoJob(flags, flagKey(job.key), job.generation, cause).catch(() => {}))),
        )
        .finally(() => {
          inFlight--;
          for (const w of batch) w.done();
          flush();
        });
    }
  }

  return {
    send(key, generation, waitUntil) {
      sending.add(id(key, generation));
      // The mark is advisory (it lets sync() queue a lost job at once): its failure costs nothing but that.
      const mark = flags.landed?.([[flagKey(key), generation]]).catch(() => {});
      const published = new Promise<void>((done) => waiting.push({ job: { key, generation }, done }));
      // Sends of the same tick go out in one batch.
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
      const whole = Promise.all([mark, published]).finally(() => {
        sending.delete(id(key, generation));
        running.delete(whole);
      });
      running.add(whole);
      waitUntil?.(whole);
    },
    sending: (key, generation) => sending.has(id(key, generation)),
    async settled() {
      while (running.size > 0) await Promise.all(running);
    },
  };
}

// --- internal ---

async function _publish(queue: TransferQueue, jobs: TransferJob[], retryDelays: number[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      if (jobs.length > 1 && queue.enqueueMany) await queue.enqueueMany(jobs);
      else await Promise.all(jobs.map((job) => queue.enqueue(job)));
      return;
    } catch (cause) {
      // A retry may publish some jobs twice: the same job keeps its deduplication id, and a job that runs twice is
      // fenced by its generation (the second finds it remote).
      const delay = retryDelays[attempt];
      if (delay === undefined) throw cause;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** No job is coming for this generation: recorded on the key, so that `sync()` queues it at once (`_whereBytes`). */
export function _recordNoJob(flags: FlagStore, flagKey: string, generation: number, cause: unknown): Promise<unknown> {
  return flags.release(flagKey, generation, "", { error: `queuing its transfer failed: ${_messageOf(cause)}` });
}
