import type { Driver } from "unstorage";

export interface FaultControl {
  /** Make the next n writes (setItem/setItemRaw) fail. */
  failWrites(n: number): void;
  /** Decide per write whether it fails (seeded random in the invariant test). */
  failWhen(predicate: (() => boolean) | undefined): void;
  /** Hold every write until release() is called. */
  hold(): void;
  release(): void;
  writes: number;
  failures: number;
}

/** Wrap a driver so that its writes can fail or be held, the way a remote goes down or stalls. */
export function faultyDriver(driver: Driver): { driver: Driver; control: FaultControl } {
  let failNext = 0;
  let predicate: (() => boolean) | undefined;
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const control: FaultControl = {
    failWrites: (n) => void (failNext = n),
    failWhen: (p) => void (predicate = p),
    hold: () => void (gate ??= new Promise<void>((resolve) => (open = resolve))),
    release: () => {
      open?.();
      gate = undefined;
    },
    writes: 0,
    failures: 0,
  };
  async function guard(): Promise<void> {
    control.writes++;
    if (gate) await gate;
    if (failNext > 0 || predicate?.()) {
      if (failNext > 0) failNext--;
      control.failures++;
      throw new Error("injected remote failure");
    }
  }
  const wrapped: Driver = {
    ...driver,
    name: `faulty:${driver.name}`,
    async setItem(key, value, opts) {
      await guard();
      return driver.setItem!(key, value, opts);
    },
    async setItemRaw(key, value, opts) {
      await guard();
      if (value instanceof ReadableStream && !(driver.flags as { streams?: boolean })?.streams) {
        value = new Uint8Array(await new Response(value).arrayBuffer());
      }
      return driver.setItemRaw ? driver.setItemRaw(key, value, opts) : driver.setItem!(key, value, opts);
    },
  };
  if ((driver.flags as { streams?: boolean })?.streams) wrapped.flags = driver.flags;
  return { driver: wrapped, control };
}

/** A seeded PRNG (mulberry32), so a failing random run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
