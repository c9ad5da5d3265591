import type { Driver } from "unstorage";
import type { _Context } from "./context.ts";

/** What the file handler needs of a queued storage beyond its public API: the tiers, the state store, the write path. */
export interface _Access {
  ctx: _Context;
  driver: Driver;
}

// Keyed by the objects users hold (the storage, the controls), so internals never become public properties.
const _accesses = new WeakMap<object, _Access>();

export function _registerAccess(targets: object[], access: _Access): void {
  for (const target of targets) _accesses.set(target, access);
}

/** The internals of a queued storage or its controls; `undefined` for anything else. */
export function _accessOf(target: unknown): _Access | undefined {
  return typeof target === "object" && target !== null ? _accesses.get(target) : undefined;
}
