import type { Driver } from "unstorage";
import memory from "unstorage/drivers/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import s3Driver from "../../src/drivers/s3/index.ts";
import {
  createQueuedStorage,
  memoryFlags,
  storageFlags,
  transfer,
  transferAndDelete,
  type FlagStore,
  type Task,
  type TransferJob,
  type TransferQueue,
} from "../../src/index.ts";
import { faultyDriver, seededRandom } from "../support/faults.ts";
import { startS3rver, type S3rverHandle } from "../support/s3rver.ts";

// DESIGN.md invariants 1–4 and 6 under seeded random interleavings: writes, overwrites, removes, raw and stream
// values, duplicate, late and out-of-order deliveries, transfers racing writes, and remote failures injected at random.
// Durability and freshness are checked after every step, convergence after the queue is drained.
// Three profiles: "jitter" (many operations, short stalls, a long lease), "beyond the lease" (a lease of 200 ms, and
// uploads, the transfers' local reads and local deletes that stall for 0.5–3 leases now and then), and "S3, frozen"
// (the S3 driver over the stand-in, commits and local reads stalled for 0.5–3 leases, and renewals that never reach
// the store, as in a process frozen past its lease: only the remote's conditional writes stand between a late commit
// and newer bytes).
// Replay a failure with QS_SEEDS=<seed> QS_OPS=<n> (QS_STALL_SEEDS / QS_STALL_OPS, QS_S3_SEEDS / QS_S3_OPS for the others).
const SEEDS = (process.env.QS_SEEDS ?? "1,2,3,4,5,6").split(",").map(Number);
const OPS = Number(process.env.QS_OPS ?? 1200);
const KEYS = 24;
const STALL_SEEDS = (process.env.QS_STALL_SEEDS ?? "11,12,13,14").split(",").map(Number);
const STALL_OPS = Number(process.env.QS_STALL_OPS ?? 250);
const S3_SEEDS = (process.env.QS_S3_SEEDS ?? "21,22").split(",").map(Number);
const S3_OPS = Number(process.env.QS_S3_OPS ?? 80);
const LEASE = 200;
const totals = { runs: 0, ops: 0, deliveries: 0, failures: 0, stalls: 0, refused: 0 };

afterAll(() => {
  console.log(`[invariants] ${totals.runs} runs, ${totals.ops} operations, ${totals.deliveries} job deliveries, ${totals.failures} injected remote failures, ${totals.stalls} stalls of 0.5–3 leases, ${totals.refused} stale S3 commits refused with 412`);
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

/**
 * Now and then (probability `p`) a call waits 0.5–3 leases before it reaches the driver: uploads, local deletes and
 * the local reads of transfers (those carry the task's signal; the test's own reads never stall).
 */
function leaseStaller(driver: Driver, random: () => number, methods: Array<"setItem" | "setItemRaw" | "getItem" | "getItemRaw" | "removeItem">, p: number): Driver {
  const wrapped: Driver = { ...driver };
  for (const method of methods) {
    const original = driver[method] as ((...args: unknown[]) => unknown) | undefined;
    if (!original) continue;
    (wrapped as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      const transferRead = !method.startsWith("getItem") || (args[1] as { signal?: unknown } | undefined)?.signal !== undefined;
      if (transferRead && random() < p) {
        totals.stalls++;
        await new Promise((r) => setTimeout(r, LEASE * (0.5 + 2.5 * random())));
      }
      return original.apply(driver, args);
    };
  }
  return wrapped;
}

/** Commits to the S3 stand-in (PutObject, CompleteMultipartUpload) held for 0.5–3 leases now and then. */
function stallingCommits(random: () => number, p: number): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const commit = (init?.method === "PUT" && !url.searchParams.has("uploadId")) || (init?.method === "POST" && url.searchParams.has("uploadId"));
    if (commit && random() < p) {
      totals.stalls++;
      await new Promise((r) => setTimeout(r, LEASE * (0.5 + 2.5 * random())));
    }
    const response = await fetch(input, init);
    if (response.status === 412) totals.refused++;
    return response;
  }) as typeof fetch;
}

/**
 * A process frozen past its lease while it uploads: renewals "succeed" without reaching the store, so it never learns
 * it lost the key. Renewals of a local delete (an evicting record) go through: a local delete frozen past its lease
 * is a window no fencing closes (docs/7.how-it-works.md), and under load a 200 ms lease would open it by event-loop lag alone.
 */
const frozen = (flags: FlagStore): FlagStore => ({
  ...flags,
  renew: async (key, token, ms) => {
    const record = await flags.get(key);
    return record?.evictUntil ? flags.renew(key, token, ms) : record;
  },
});

interface Profile {
  name: string;
  ops: number;
  keys: number;
  leaseMs: number;
  /** Removes in the mix (see the S3 profile for why it has none). */
  removes: boolean;
  /** `local` and `remote` go to the storage; `localRaw` and `remoteRaw` are read directly for the final check. */
  tiers(random: () => number, run: string): { local: Driver; localRaw: Driver; remote: Driver; remoteRaw: Driver; flags?: FlagStore };
}

const encode = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);
const decode = (value: unknown): string | null => {
  if (value === null || typeof value === "string") return value;
  return new TextDecoder().decode(value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer));
};

const JITTER: Profile = {
  name: "jitter",
  ops: OPS,
  keys: KEYS,
  leaseMs: 10_000,
  removes: true,
  tiers(random) {
    const local = memory();
    const remoteRaw = memory();
    return { local: jitteryDriver(local, random, ["removeItem"]), localRaw: local, remote: jitteryDriver(remoteRaw, random, ["setItem", "setItemRaw"]), remoteRaw };
  },
};

const BEYOND_THE_LEASE: Profile = {
  name: "beyond the lease",
  ops: STALL_OPS,
  keys: 8,
  leaseMs: LEASE,
  removes: true,
  tiers(random) {
    const localRaw = memory();
    const remoteRaw = memory();
    const local = leaseStaller(localRaw, random, ["getItem", "getItemRaw", "removeItem"], 0.25);
    return { local, localRaw, remote: leaseStaller(remoteRaw, random, ["setItem", "setItemRaw"], 0.3), remoteRaw };
  },
};

let s3: S3rverHandle | undefined;
const S3_FROZEN: Profile = {
  name: "S3, frozen",
  ops: S3_OPS,
  keys: 6,
  leaseMs: LEASE,
  // A removal deletes the remote object; a commit frozen past its lease that finds the key empty then recreates it
  // (If-None-Match: * holds), until its process resumes and removes it again. That window is documented in docs/7.how-it-works.md;
  // this profile proves what the fencing does guarantee: writes are never lost or shadowed.
  removes: false,
  tiers(random, run) {
    const connection = { endpoint: s3!.endpoint, bucket: s3!.bucket, region: s3!.region, accessKeyId: s3!.accessKeyId, secretAccessKey: s3!.secretAccessKey, base: run, retries: 0 };
    const localRaw = memory();
    return {
      // Local reads stall, local deletes do not: a local delete from a process frozen past its lease cannot be fenced
      // (no local driver has conditional deletes); that window is documented in docs/7.how-it-works.md.
      local: leaseStaller(localRaw, random, ["getItemRaw"], 0.15),
      localRaw,
      remote: s3Driver({ ...connection, fetch: stallingCommits(random, 0.35) }),
      remoteRaw: s3Driver(connection),
      flags: frozen(memoryFlags()),
    };
  },
};

async function run(seed: number, task: Task, flagsKind: "memory" | "storage", profile: Profile): Promise<void> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const keys = Array.from({ length: profile.keys }, (_, i) => (i % 3 === 0 ? `dir:k${i}` : `k${i}`));
  const where0 = `${profile.name}: seed ${seed} ${task.name}/${flagsKind}`;
  const tiers = profile.tiers(random, `${profile.name.replace(/\W+/g, "-")}-${seed}-${task.name}`);
  const localMemory = tiers.localRaw;
  const remoteMemory = tiers.remoteRaw;
  const { driver: faulty, control } = faultyDriver(tiers.remote);
  control.failWhen(() => random() < 0.15);
  // Local puts fail now and then too (issue 20): the write rejects and the key stays as it was.
  const { driver: faultyLocal, control: localControl } = faultyDriver(tiers.local);
  localControl.failWhen(() => random() < 0.05);
  const queue = manualQueue();
  const storage = createQueuedStorage({
    local: faultyLocal,
    remote: faulty,
    queue,
    task,
    flags: tiers.flags ?? (flagsKind === "memory" ? memoryFlags() : storageFlags(memory())),
    leaseMs: profile.leaseMs,
  });
  const expected = new Map<string, string | null>();
  const inFlight = new Set<Promise<unknown>>();
  let counter = 0;

  // Keys with a transfer in flight. The stall profiles aim half their operations at them: overwriting, removing and
  // delivering the newer job of a key whose upload or local delete stalls is what these profiles are for.
  const busyKeys = new Map<string, number>();
  const aimed = profile.leaseMs < 1000;
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
    busyKeys.set(job.key, (busyKeys.get(job.key) ?? 0) + 1);
    const tracked = attempt.finally(() => {
      inFlight.delete(tracked);
      const left = busyKeys.get(job.key)! - 1;
      if (left > 0) busyKeys.set(job.key, left);
      else busyKeys.delete(job.key);
    });
    inFlight.add(tracked);
    return tracked;
  };

  const check = async (step: number, op: string): Promise<void> => {
    for (const key of keys) {
      if (!expected.has(key)) continue;
      const want = expected.get(key)!;
      const got = decode(await storage.getItemRaw(key));
      if (got !== want) {
        throw new Error(`${where0} step ${step} (${op}): "${key}" read ${JSON.stringify(got)}, want ${JSON.stringify(want)}; status ${JSON.stringify(await storage.status(key))}`);
      }
    }
    // Listings agree with reads: every live key once, no removed key (not even one a running transfer re-uploaded).
    const listed = (await storage.getKeys()).sort();
    const live = [...expected].filter(([, value]) => value !== null).map(([key]) => key).sort();
    if (JSON.stringify(listed) !== JSON.stringify(live)) {
      throw new Error(`${where0} step ${step} (${op}): getKeys() ${JSON.stringify(listed)}, want ${JSON.stringify(live)}`);
    }
  };

  for (let step = 0; step < profile.ops; step++) {
    const roll = random();
    const key = aimed && busyKeys.size > 0 && random() < 0.5 ? pick([...busyKeys.keys()]) : pick(keys);
    let op: string;
    if (aimed && inFlight.size > 0 && random() < 0.1) {
      // Time passes while transfers are in flight: leases that are not renewed lapse, stalled calls land late.
      op = "time passes";
      await new Promise((r) => setTimeout(r, profile.leaseMs * (0.5 + random())));
    } else if (roll < 0.3) {
      const value = `${key}#${++counter}`;
      const kind = pick(["text", "bytes", "stream", "blob"] as const);
      op = `write(${kind}) ${key}`;
      const failures = localControl.failures;
      try {
        if (kind === "text") await storage.setItem(key, value);
        else if (kind === "bytes") await storage.setItemRaw(key, encode(value));
        else if (kind === "stream") await storage.setItemRaw(key, new Blob([encode(value)]).stream());
        else await storage.setItemRaw(key, new Blob([encode(value)]));
        expected.set(key, value);
      } catch (error) {
        // Only an injected local failure may reject a write, and then nothing changes (checked by the reads below).
        if (localControl.failures === failures) throw error;
        op = `rejected ${op}`;
      }
    } else if (roll < 0.4 && profile.removes) {
      op = `remove ${key}`;
      await storage.removeItem(key);
      expected.set(key, null);
    } else if (roll < 0.75 && queue.pending.length > 0) {
      // Out of order: any pending job, not the oldest.
      const onBusyKey = aimed && random() < 0.5 ? queue.pending.findIndex((job) => busyKeys.has(job.key)) : -1;
      const index = onBusyKey >= 0 ? onBusyKey : Math.floor(random() * queue.pending.length);
      const [job] = queue.pending.splice(index, 1);
      queue.delivered.push(job!);
      op = `deliver ${job!.key}@${job!.generation}`;
      const attempt = deliver(job!);
      if (random() < (aimed ? 0.2 : 0.5)) await attempt; // else it stays in flight while the next steps run
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
  localControl.failWhen(undefined);
  for (let round = 0; round < 50; round++) {
    await Promise.all(inFlight);
    if (queue.pending.length === 0) {
      await storage.sync();
      if (queue.pending.length === 0) break;
    }
    for (const job of queue.pending.splice(0)) void deliver(job);
  }
  await Promise.all(inFlight);
  await check(profile.ops, "converged");
  for (const key of keys) {
    if (!expected.has(key)) continue;
    const want = expected.get(key)!;
    const status = await storage.status(key);
    const remoteValue = decode((await remoteMemory.getItemRaw!(key, {})) ?? null);
    const localValue = (await localMemory.getItemRaw!(key, {})) ?? null;
    const where = `${where0} "${key}"`;
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

describe.concurrent("invariants under random interleavings", () => {
  for (const seed of SEEDS) {
    for (const task of [transfer, transferAndDelete]) {
      const flagsKind = seed % 2 === 0 ? "storage" : "memory";
      it(`seed ${seed}: ${OPS} operations over ${KEYS} keys, ${task.name}, ${flagsKind} flags`, () => run(seed, task, flagsKind, JITTER), 120_000);
    }
  }
});

// These runs mostly wait on timers: run them side by side (each has its own storage, tiers and seed).
describe.concurrent("invariants when uploads, local reads and local deletes stall for 0.5–3 leases (issue 9)", () => {
  for (const seed of STALL_SEEDS) {
    for (const task of [transfer, transferAndDelete]) {
      const flagsKind = seed % 2 === 0 ? "storage" : "memory";
      it(`seed ${seed}: ${STALL_OPS} operations, lease ${LEASE} ms, ${task.name}, ${flagsKind} flags`, () => run(seed, task, flagsKind, BEYOND_THE_LEASE), 120_000);
    }
  }
});

describe.concurrent("invariants on the S3 driver with a process frozen past its lease (issue 9)", () => {
  beforeAll(async () => {
    s3 = await startS3rver({ bucket: "invariants" });
  });
  afterAll(async () => {
    await s3?.stop();
  });
  for (const seed of S3_SEEDS) {
    for (const task of [transfer, transferAndDelete]) {
      it(`seed ${seed}: ${S3_OPS} operations, lease ${LEASE} ms, commits stalled, renewals frozen, ${task.name}`, () => run(seed, task, "memory", S3_FROZEN), 120_000);
    }
  }
});
