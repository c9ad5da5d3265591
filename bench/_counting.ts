import type { FlagStore } from "../src/contracts.ts";

export interface CountedFlags {
  flags: FlagStore;
  /** Calls per FlagStore method since the last reset. */
  calls: Map<string, number>;
  total(): number;
  reset(): void;
}

/**
 * A FlagStore that counts its method calls: with an in-process store each call stands for what would be one round
 * trip to a remote store (every FlagStore method is one atomic step, DESIGN.md).
 */
export function countedFlags(inner: FlagStore): CountedFlags {
  const calls = new Map<string, number>();
  const flags = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function" || property === "dispose") return value;
      return (...args: unknown[]) => {
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    flags,
    calls,
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
    reset: () => calls.clear(),
  };
}
