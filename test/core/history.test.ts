import { createStorage, type Driver } from "unstorage";
import memory from "unstorage/drivers/memory";
import { describe, expect, it } from "vitest";
import {
  createQueuedStorage,
  memoryFlags,
  memoryQueue,
  storageFlags,
  transfer,
  transferAndDelete,
  type Task,
} from "../../src/index.ts";
import { seededRandom } from "../support/faults.ts";
import { fencedMemoryDriver } from "../support/fenced-memory.ts";
import { checkHistory, createHistory, type Op } from "../support/history.ts";

// DESIGN.md invariant 7, checked Jepsen-style (issue 20): concurrent clients on a few colliding keys mix setItem,
// setItemRaw, getItem, getItemRaw, removeItem, transfer, transferNow and sync, while single driver calls are held for
// 1–3 leases and some local and remote puts fail. Every operation is recorded and the history checked as a register
// per key (test/support/history.ts); then, with no sync(), the queue drains and every key must have converged: the
// last value on the remote with its kind (read back by a plain unstorage storage), no local copy after
// transferAndDelete, nothing left `failed`, no onFailed. The checker is first proved against a linearizable reference
// and against references with a planted flaw.
// Fast profile in `npm test`; QS_HISTORY_LONG=1 for the long one (more seeds, clients and operations).
const LONG = process.env.QS_HISTORY_LONG === "1";
const SEEDS = process.env.QS_HISTORY_SEEDS ? process.env.QS_HISTORY_SEEDS.split(",").map(Number) : LONG ? Array.from({ length: 24 }, (_, i) => 101 + i) : [1, 2, 3, 4, 5, 6, 7, 8];
const CLIENTS = LONG ? 6 : 4;
const OPS = LONG ? 60 : 24;
const KEYS = ["a", "dir:b", "c"];
const LEASE = 100;

/** The surface the workload drives: a queued storage, or a reference implementation of it. */
interface Subject {
  setItem(key: string, value: string): Promise<void>;
  setItemRaw(key: string, value: Uint8Array): Promise<void>;
  getItem(key: string): Promise<unknown>;
  getItemRaw(key: string): Promise<unknown>;
  removeItem(key: string): Promise<void>;
  transfer(key: string): Promise<unknown>;
  transferNow(key: string): Promise<unknown>;
  sync(): Promise<unknown>;
}

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (value: unknown): string | null => {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  return new TextDecoder().decode(value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer));
};
const pause = (random: () => number): Promise<void> =>
  random() < 0.5 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4)));

/** Run the workload against `subject`; resolves to the history, with one final read per key after `settle()`. */
async function workload(subject: Subject, seed: number, settle: () => Promise<void>): Promise<{ ops: Op[]; kinds: Map<string, "text" | "raw"> }> {
  const history = createHistory();
  const kinds = new Map<string, "text" | "raw">();
  let counter = 0;
  const client = async (id: number): Promise<void> => {
    const random = seededRandom(seed * 1000 + id);
    for (let i = 0; i < OPS; i++) {
      const key = KEYS[Math.floor(random() * KEYS.length)]!;
      const roll = random();
      const value = `c${id}-${++counter}`;
      if (roll < 0.22) {
        kinds.set(value, "text");
        await history.record({ client: id, key, kind: "write", name: "setItem", value }, () => subject.setItem(key, value));
      } else if (roll < 0.36) {
        kinds.set(value, "raw");
        await history.record({ client: id, key, kind: "write", name: "setItemRaw", value }, () => subject.setItemRaw(key, encode(value)));
      } else if (roll < 0.52) {
        await history.record({ client: id, key, kind: "read", name: "getItem" }, async () => decode(await subject.getItem(key)));
      } else if (roll < 0.64) {
        await history.record({ client: id, key, kind: "read", name: "getItemRaw" }, async () => decode(await subject.getItemRaw(key)));
      } else if (roll < 0.74) {
        await history.record({ client: id, key, kind: "remove", name: "removeItem", value: null }, () => subject.removeItem(key));
      } else if (roll < 0.84) {
        await history.record({ client: id, key, kind: "control", name: "transfer" }, async () => void (await subject.transfer(key)));
      } else if (roll < 0.94) {
        await history.record({ client: id, key, kind: "control", name: "transferNow" }, async () => void (await subject.transferNow(key)));
      } else {
        await history.record({ client: id, key, kind: "control", name: "sync" }, async () => void (await subject.sync()));
      }
      await pause(random);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, id) => client(id)));
  await settle();
  for (const key of KEYS) {
    await history.record({ client: -1, key, kind: "read", name: "getItem (final)" }, async () => decode(await subject.getItem(key)));
  }
  return { ops: history.ops, kinds };
}

/**
 * A driver whose calls are delayed a little, now and then held for 1–3 leases, and (puts only, before they reach the
 * driver) failed with probability `failPuts`.
 */
function chaotic(driver: Driver, random: () => number, failPuts: number): Driver {
  const wrapped: Driver = { ...driver };
  for (const method of ["hasItem", "getItem", "getItemRaw", "setItem", "setItemRaw", "removeItem", "getMeta"] as const) {
    const original = driver[method] as ((...args: unknown[]) => unknown) | undefined;
    if (!original) continue;
    (wrapped as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      const held = random() < 0.04;
      await new Promise((resolve) => setTimeout(resolve, held ? LEASE * (1 + 2 * random()) : Math.floor(random() * 4)));
      if (method.startsWith("setItem") && random() < failPuts) throw new Error(`injected ${method} failure`);
      return original.apply(driver, args);
    };
  }
  return wrapped;
}

/** A linearizable register per key with the same surface: each operation takes effect at one instant inside its call. */
function reference(seed: number, flaw?: "stale read" | "late write"): Subject {
  const random = seededRandom(seed);
  const values = new Map<string, string | Uint8Array | null>();
  const previous = new Map<string, string | Uint8Array | null>();
  const write = async (key: string, value: string | Uint8Array | null): Promise<void> => {
    await pause(random);
    if (value !== null && random() < 0.1) throw new Error("injected put failure");
    const apply = (): void => {
      previous.set(key, values.get(key) ?? null);
      values.set(key, value);
    };
    if (flaw === "late write") setTimeout(apply, 3);
    else apply();
    await pause(random);
  };
  const read = async (key: string): Promise<unknown> => {
    await pause(random);
    const value = flaw === "stale read" && random() < 0.5 ? previous.get(key) ?? null : values.get(key) ?? null;
    await pause(random);
    return value;
  };
  return {
    setItem: (key, value) => write(key, value),
    setItemRaw: (key, value) => write(key, value),
    getItem: read,
    getItemRaw: read,
    removeItem: (key) => write(key, null),
    transfer: async () => pause(random),
    transferNow: async () => pause(random),
    sync: async () => pause(random),
  };
}

describe("the history checker itself", () => {
  it("accepts every history of a linearizable reference, with failing puts", async () => {
    for (const seed of SEEDS) {
      const { ops } = await workload(reference(seed), seed, async () => {});
      expect(checkHistory(ops), `seed ${seed}`).toEqual([]);
    }
  });

  for (const flaw of ["stale read", "late write"] as const) {
    it(`finds the planted flaw of a reference with a ${flaw}`, async () => {
      const flagged = [];
      for (const seed of SEEDS) {
        const { ops } = await workload(reference(seed, flaw), seed, async () => new Promise((resolve) => setTimeout(resolve, 10)));
        if (checkHistory(ops).length > 0) flagged.push(seed);
      }
      expect(flagged).toEqual(SEEDS);
    });
  }
});

describe.concurrent("queued storage histories are linearizable per key (issue 20)", () => {
  for (const seed of SEEDS) {
    for (const task of [transfer, transferAndDelete]) {
      for (const flagsKind of ["memory", "storage"] as const) {
        it(`seed ${seed}: ${CLIENTS} clients × ${OPS} operations on ${KEYS.length} keys, ${task.name}, ${flagsKind} flags`, () =>
          runQueued(seed, task, flagsKind, "queued"), 120_000);
      }
    }
  }
  // Issue 24: writes acknowledged once stored, their jobs published in the background, and reads that reuse `remote`
  // records for longer than a run takes (readCacheMs): half the seeds, memory flags.
  for (const seed of SEEDS.slice(0, Math.ceil(SEEDS.length / 2))) {
    for (const task of [transfer, transferAndDelete]) {
      it(`seed ${seed}: ${CLIENTS} clients × ${OPS} operations on ${KEYS.length} keys, ${task.name}, acknowledge: "stored", readCacheMs`, () =>
        runQueued(seed, task, "memory", "stored"), 120_000);
    }
  }
});

async function runQueued(seed: number, task: Task, flagsKind: "memory" | "storage", acknowledge: "queued" | "stored"): Promise<void> {
  const random = seededRandom(seed);
  const localMemory = memory();
  const remoteMemory = fencedMemoryDriver();
  const failed: string[] = [];
  const storage = createQueuedStorage({
    local: chaotic(localMemory, random, 0.08),
    remote: chaotic(remoteMemory, random, 0.1),
    queue: memoryQueue({ retries: 8, retryDelay: 5, maxRetryDelay: 50 }),
    flags: flagsKind === "memory" ? memoryFlags() : storageFlags(memory()),
    task,
    leaseMs: LEASE,
    acknowledge,
    readCacheMs: acknowledge === "stored" ? 60_000 : 0,
    onFailed: (event) => void failed.push(`${event.key}@${event.generation}: ${event.error}`),
  });
  const { ops, kinds } = await workload(storage, seed, () => storage.drain());
  const where = `seed ${seed} ${task.name}/${flagsKind}/${acknowledge}`;
  expect(checkHistory(ops), where).toEqual([]);
  // Convergence with no sync(): the queue alone finished every key.
  const plainLocal = createStorage({ driver: localMemory });
  const plainRemote = createStorage({ driver: remoteMemory });
  for (const key of KEYS) {
    const last = ops.find((op) => op.key === key && op.name === "getItem (final)")!.result ?? null;
    const status = await storage.status(key);
    if (last === null) {
      expect(status, `${where} "${key}": state left behind`).toBeNull();
      expect(await plainRemote.hasItem(key), `${where} "${key}": remote object left behind`).toBe(false);
      expect(await plainLocal.hasItem(key), `${where} "${key}": local copy left behind`).toBe(false);
      continue;
    }
    expect(status?.state, `${where} "${key}": ${JSON.stringify(status)}`).toBe("remote");
    expect(decode(await plainRemote.getItemRaw(key)), `${where} "${key}" on the remote`).toBe(last);
    expect(remoteMemory.storedKind(key), `${where} "${key}" kept its kind`).toBe(kinds.get(last));
    if (task.deleteLocal) expect(await plainLocal.hasItem(key), `${where} "${key}": local copy kept`).toBe(false);
    else expect(decode(await plainLocal.getItemRaw(key)), `${where} "${key}" on the local tier`).toBe(last);
  }
  expect(failed, `${where}: onFailed`).toEqual([]);
  await storage.dispose();
}
