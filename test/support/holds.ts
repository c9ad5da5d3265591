import type { Driver } from "unstorage";

type Method = "hasItem" | "getItem" | "getItemRaw" | "setItem" | "setItemRaw" | "removeItem" | "getMeta" | "getKeys";
const METHODS: Method[] = ["hasItem", "getItem", "getItemRaw", "setItem", "setItemRaw", "removeItem", "getMeta", "getKeys"];

/** One held driver call: it waits until the test releases it (it then reaches the driver) or fails it. */
export interface Hold {
  /** Resolves when the held call has arrived (it has not reached the driver yet). */
  reached: Promise<void>;
  /** Resolves when the held call has returned or thrown. */
  done: Promise<void>;
  /** Let the call reach the driver. */
  release(): void;
  /** Make the call throw `error` without reaching the driver. */
  fail(error?: Error): void;
}

export interface HoldOptions {
  /** Which matching call to hold, counting from 1 from the moment `hold()` is called. Default: the next one. */
  nth?: number;
  /** Only calls for this key count. */
  key?: string;
}

export interface HoldingDriver {
  driver: Driver;
  /** Hold a coming call of `method`. Several holds may wait at once, on any methods. */
  hold(method: Method, options?: HoldOptions): Hold;
  /** Calls of `method` seen so far. */
  calls(method: Method): number;
}

/**
 * Wrap any unstorage driver so that one chosen call (`local.removeItem`, `local.setItem`, `remote.setItem`, …) waits
 * for as long as the test likes and is then released or failed: the races around a transfer are replayed exactly,
 * with latches rather than sleeps.
 */
export function holdingDriver(driver: Driver): HoldingDriver {
  const counts = new Map<Method, number>();
  const waiting: Array<{ method: Method; key?: string; left: number; gate: Gate }> = [];
  const wrapped: Driver = { ...driver, name: `holding:${driver.name}` };
  for (const method of METHODS) {
    const original = driver[method] as ((...args: unknown[]) => unknown) | undefined;
    if (!original) continue;
    (wrapped as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      counts.set(method, (counts.get(method) ?? 0) + 1);
      const key = typeof args[0] === "string" ? args[0] : undefined;
      const matching = waiting.filter((w) => w.method === method && (w.key === undefined || w.key === key));
      for (const w of matching) w.left--;
      const index = waiting.findIndex((w) => matching.includes(w) && w.left === 0);
      if (index < 0) return original.apply(driver, args);
      const { gate } = waiting.splice(index, 1)[0]!;
      gate!.arrive();
      try {
        await gate!.opened;
        return await original.apply(driver, args);
      } finally {
        gate!.finish();
      }
    };
  }
  return {
    driver: wrapped,
    calls: (method) => counts.get(method) ?? 0,
    hold(method, options = {}) {
      const gate = _gate();
      waiting.push({ method, key: options.key, left: options.nth ?? 1, gate });
      return gate.hold;
    },
  };
}

interface Gate {
  hold: Hold;
  opened: Promise<void>;
  arrive(): void;
  finish(): void;
}

function _gate(): Gate {
  let arrive!: () => void;
  let finish!: () => void;
  let open!: () => void;
  let reject!: (error: Error) => void;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const done = new Promise<void>((resolve) => (finish = resolve));
  const opened = new Promise<void>((resolve, fail) => ((open = resolve), (reject = fail)));
  opened.catch(() => {});
  return {
    opened,
    arrive,
    finish,
    hold: { reached, done, release: () => open(), fail: (error = new Error("injected failure of a held call")) => reject(error) },
  };
}
