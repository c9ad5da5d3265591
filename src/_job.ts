import { _error } from "./_errors.ts";
import { _assertKey } from "./_keys.ts";
import type { TransferJob } from "./contracts.ts";

/** A job from the outside (a webhook body, a worker message) checked strictly: `{ key, generation }` and nothing else. */
export function _validateJob(job: unknown): TransferJob {
  if (!job || typeof job !== "object" || Array.isArray(job)) {
    throw _error(`invalid transfer job: expected an object { key, generation }, got ${_kind(job)}`, { retryable: false });
  }
  const { key, generation, ...rest } = job as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) {
    throw _error(`invalid transfer job: unexpected propert${extra.length > 1 ? "ies" : "y"} ${extra.join(", ")}`, {
      retryable: false,
    });
  }
  _assertKey(key);
  if (typeof generation !== "number" || !Number.isSafeInteger(generation) || generation <= 0) {
    throw _error(`invalid transfer job for "${key}": generation must be a positive integer, got ${_kind(generation)}`, {
      key,
      retryable: false,
    });
  }
  return { key, generation };
}

function _kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}
