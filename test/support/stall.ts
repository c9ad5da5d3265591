import type { Driver } from "unstorage";

type Method = "hasItem" | "getItem" | "getItemRaw" | "setItem" | "setItemRaw" | "removeItem" | "getMeta" | "getKeys";

export interface Stall {
  /** Resolves when the stalled call has started (it then waits `ms` before reaching the driver). */
  started: Promise<void>;
  /** Resolves when the stalled call has reached the driver and returned (or thrown). */
  finished: Promise<void>;
  /** Calls of the method seen so far. */
  calls: number;
}

export interface StallOptions {
  /** Which call of `method` stalls, counting from 1. Default: the first. */
  nth?: number;
  /** How long the stalled call waits before it reaches the driver. */
  ms: number;
  /** Make the stalled call fail after its wait instead of reaching the driver. */
  fail?: boolean;
  /** Stall every call of the method, not only the nth. */
  every?: boolean;
}

/**
 * Wrap any unstorage driver so that one call of `method` waits `ms` before it reaches the driver: an upload, a read or
 * a delete that stalls for longer than a lease. `started` and `finished` are latches the test awaits, no sleeps.
 */
export function stallingDriver(driver: Driver, method: Method, options: StallOptions): { driver: Driver; stall: Stall } {
  let markStarted!: () => void;
  let markFinished!: () => void;
  const stall: Stall = {
    started: new Promise<void>((resolve) => (markStarted = resolve)),
    finished: new Promise<void>((resolve) => (markFinished = resolve)),
    calls: 0,
  };
  const original = driver[method] as ((...args: unknown[]) => unknown) | undefined;
  if (!original) throw new Error(`stallingDriver: driver "${driver.name}" has no ${method}()`);
  const wrapped: Driver = { ...driver, name: `stalling:${driver.name}` };
  (wrapped as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    const nth = ++stall.calls;
    if (!options.every && nth !== (options.nth ?? 1)) return original.apply(driver, args);
    markStarted();
    try {
      await new Promise((resolve) => setTimeout(resolve, options.ms));
      if (options.fail) throw new Error(`injected ${method} failure`);
      return await original.apply(driver, args);
    } finally {
      markFinished();
    }
  };
  return { driver: wrapped, stall };
}
