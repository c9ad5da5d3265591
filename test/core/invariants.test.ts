import type { Driver } from "unstorage";
import memory from "unstorage/drivers/memory";
import { afterAll, describe, expect, it } from "vitest";
import {
  createQueuedStorage,
  memoryFlags,
  storageFlags,
  transfer,
  transferAndDelete,
  type Task,
  type TransferJob,
  type TransferQueue,
} from "../../src/index.ts";
import { faultyDriver, seededRandom } from "../support/faults.ts";

// DESIGN.md invariants 1–4 and 6 under seeded random interleavings: writes, overwrites, removes, raw and stream
// values, duplicate, late and out-of-order deliveries, transfers racing writes, and remote failures injected at random.
// Durability and freshness are checked after every step, convergence after the queue is drained.
// Replay a failure with QS_SEEDS=<seed> QS_OPS=<n>.
const SEEDS = (process.env.QS_SEEDS ?? "1,2,3,4,5,6").split(",").map(Number);
const OPS = Number(process.env.QS_OPS ?? 1200);
const KEYS = 24;
const totals = { runs: 0, ops: 0, deliveries: 0, failures: 0 };

afterAll(() => {
  console.log(`[invariants] ${totals.runs} runs, ${totals.ops} operations, ${totals.deliveries} job deliveries, ${totals.failures} injected remote failures`);
});

/** A queue the test drives: jobs wait until the test delivers them, in any order, any number of times. */
function manualQueue(): TransferQueue & { pending: TransferJob[]; delivered: TransferJob[] } {
  const pending: TransferJob[] = [];
  return { name: "manual", pending, delivered: [], enqueue: async (job) => void pending.push(job) };
}

/**
 * Awaits a random number of ticks around every call, so transfers interleave with writes at many points; `stall`
 * methods sometimes wait a few ms, so the test loop runs whole operations (writes, removes, other deliveries)
 * while a transfer sits between reading the local copy and writing the remote one, or before deleting a local copy.
 */
function jitteryDriver(driver: Driver, random: () => number, stall: string[] = []): Driver {
  const jitter = async (): Promise<void> => {
    // Mostly microtask yields (cheap), sometimes a macrotask so timers (lease renewal, eviction waits) run too.
    for (let i = Math.floor(random() * 4); i > 0; i--) await null;
    // Macrotask waits let the test loop run whole operations while a transfer sits between its read and its write.
    for (let i = random() < 0.3 ? Math.floor(random() * 3) + 1 : 0; i > 0; i--) await new Promise((r) => setImmediate(r));
  };
  // Mostly short stalls; now and then one long enough for a remove and a rewrite of the key to pass it.
  const stallMs = (): number => (random() < 0.1 ? 15 + random() * 25 : 1 + random() * 6);
  const wrapped: Driver = { ...driver };
  for (const method of ["hasItem", "getItem", "getItemRaw", "setItem", "setItemRaw", "removeItem", "getKeys"] as const) {
    const original = driver[method] as ((...args: unknown[]) => unknown) | undefined;
    if (!original) continue;
    (wrapped as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      await jitter();
      if (stall.includes(method) && random() < 0.3) await new Promise((r) => setTimeout(r, stallMs()));
      const result = await original.apply(driver, args);
      await jitter();
      if (stall.includes(method) && random() < 0.2) await new Promise((r) => setTimeout(r, stallMs()));
      return result;
    };
  }
  return wrapped;
}

const encode = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);
const decode = (value: unknown): string | null => {
  if (value === null || typeof value === "string") return value;
  return new TextDecoder().decode(value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer));
};

async function run(seed: number, task: Task, flagsKind: "memory" | "storage"): Promise<void> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const keys = Array.from({ length: KEYS }, (_, i) => (i % 3 === 0 ? `dir:k${i}` : `k${i}`));
  const localMemory = memory();
  const remoteMemory = memory();
  const { driver: faulty, control } = faultyDriver(remoteMemory);
  control.failWhen(() => random() < 0.15);
  const queue = manualQueue();
  const storage = createQueuedStorage({
    local: jitteryDriver(localMemory, random, ["removeItem"]),
    remote: jitteryDriver(faulty, random, ["setItemRaw"]),
    queue,
    task,
    flags: flagsKind === "memory" ? memoryFlags() : storageFlags(memory()),
    leaseMs: 10_000,
  });
  const expected = new Map<string, string | null>();
  const inFlight = new Set<Promise<unknown>>();
  let counter = 0;

  const deliver = (job: TransferJob): Promise<unknown> => {
    totals.deliveries++;
    const attempt = storage.handle(job).then(
      (outcome) => {
        // "busy": another transfer holds the key, deliver again later, as a queue would.
        if (outcome === "busy") queue.pending.push(job);
      },
      () => {
        // A failed attempt: retried later, or dead-lettered now and then (exhausted retries).
        if (random() < 0.2) return storage.fail(job, "dead-lettered by the test");
        queue.pending.push(job);
      },
    );
    const tracked = attempt.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    return tracked;
  };

  const check = async (step: number, op: string): Promise<void> => {
    for (const key of keys) {
      if (!expected.has(key)) continue;
      const want = expected.get(key)!;
      const got = decode(await storage.getItemRaw(key));
      if (got !== want) {
        throw new Error(`seed ${seed} ${task.name}/${flagsKind} step ${step} (${op}): "${key}" read ${JSON.stringify(got)}, want ${JSON.stringify(want)}; status ${JSON.stringify(await storage.status(key))}`);
      }
    }
    // Listings agree with reads: every live key once, no removed key (not even one a running transfer re-uploaded).
    const listed = (await storage.getKeys()).sort();
    const live = [...expected].filter(([, value]) => value !== null).map(([key]) => key).sort();
    if (JSON.stringify(listed) !== JSON.stringify(live)) {
      throw new Error(`seed ${seed} ${task.name}/${flagsKind} step ${step} (${op}): getKeys() ${JSON.stringify(listed)}, want ${JSON.stringify(live)}`);
    }
  };

  for (let step = 0; step < OPS; step++) {
    const roll = random();
    const key = pick(keys);
    let op: string;
    if (roll < 0.3) {
      const value = `${key}#${++counter}`;
      const kind = pick(["text", "bytes", "stream", "blob"] as const);
      op = `write(${kind}) ${key}`;
      if (kind === "text") await storage.setItem(key, value);
      else if (kind === "bytes") await storage.setItemRaw(key, encode(value));
      else if (kind === "stream") await storage.setItemRaw(key, new Blob([encode(value)]).stream());
      else await storage.setItemRaw(key, new Blob([encode(value)]));
      expected.set(key, value);
    } else if (roll < 0.4) {
      op = `remove ${key}`;
      await storage.removeItem(key);
      expected.set(key, null);
    } else if (roll < 0.75 && queue.pending.length > 0) {
      // Out of order: any pending job, not the oldest.
      const index = Math.floor(random() * queue.pending.length);
      const [job] = queue.pending.splice(index, 1);
      queue.delivered.push(job!);
      op = `deliver ${job!.key}@${job!.generation}`;
      const attempt = deliver(job!);
      if (random() < 0.5) await attempt; // else it stays in flight while the next steps run
    } else if (roll < 0.85 && queue.delivered.length > 0) {
      const job = pick(queue.delivered); // duplicate or late delivery of an already delivered job
      op = `redeliver ${job.key}@${job.generation}`;
      void deliver(job);
    } else if (roll < 0.9) {
      op = `transfer(${key})`;
      await storage.transfer(key);
    } else if (roll < 0.95 && inFlight.size > 0) {
      op = "await in-flight";
      await Promise.race(inFlight);
    } else {
      op = "sync";
      await storage.sync();
    }
    totals.ops++;
    await check(step, op);
  }

  // Convergence: no more faults, deliver until idle, sync() picks up what was dead-lettered.
  control.failWhen(undefined);
  for (let round = 0; round < 50; round++) {
    await Promise.all(inFlight);
    if (queue.pending.length === 0) {
      await storage.sync();
      if (queue.pending.length === 0) break;
    }
    for (const job of queue.pending.splice(0)) void deliver(job);
  }
  await Promise.all(inFlight);
  await check(OPS, "converged");
  for (const key of keys) {
    if (!expected.has(key)) continue;
    const want = expected.get(key)!;
    const status = await storage.status(key);
    const remoteValue = decode((await remoteMemory.getItemRaw!(key, {})) ?? null);
    const localValue = (await localMemory.getItemRaw!(key, {})) ?? null;
    const where = `seed ${seed} ${task.name}/${flagsKind} "${key}"`;
    if (want === null) {
      expect(status, `${where}: state left behind`).toBeNull();
      expect(remoteValue, `${where}: remote object left behind`).toBeNull();
      expect(localValue, `${where}: local copy left behind`).toBeNull();
    } else {
      expect(status?.state, where).toBe("remote");
      expect(remoteValue, where).toBe(want);
      if (task.deleteLocal) expect(localValue, `${where}: local copy kept`).toBeNull();
      else expect(decode(localValue), where).toBe(want);
    }
  }
  totals.failures += control.failures;
  totals.runs++;
  await storage.dispose();
}

describe("invariants under random interleavings", () => {
  for (const seed of SEEDS) {
    for (const task of [transfer, transferAndDelete]) {
      const flagsKind = seed % 2 === 0 ? "storage" : "memory";
      it(`seed ${seed}: ${OPS} operations over ${KEYS} keys, ${task.name}, ${flagsKind} flags`, () => run(seed, task, flagsKind), 120_000);
    }
  }
});
