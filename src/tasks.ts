import { _error } from "./_errors.ts";
import type { Task, TaskContext } from "./types.ts";

/**
 * Define a custom transfer task. `run` returns `true` when the remote holds the value, `false` to be retried;
 * throwing also retries, with the error recorded. Anything else fails the job with an error naming the task.
 *
 * @example
 * const transferAndNotify = defineTask({
 *   name: "transferAndNotify",
 *   async run(ctx) {
 *     const done = await transfer.run(ctx);
 *     if (done) await fetch("https://hooks.example.com/uploaded", { method: "POST", body: ctx.key });
 *     return done;
 *   },
 * });
 */
export function defineTask(
  definition: Task["run"] | { name: string; run: Task["run"]; deleteLocal?: boolean },
): Task {
  if (typeof definition === "function") return { name: definition.name || "task", run: definition };
  if (!definition || typeof definition.run !== "function") {
    throw new TypeError("[queued-storage] defineTask: expected a function or `{ name, run }`");
  }
  return { name: definition.name, run: definition.run, deleteLocal: definition.deleteLocal === true };
}

async function _copy({ key, kind, local, remote }: TaskContext): Promise<boolean> {
  // A value written with setItem moves as the string the local driver stored, through the drivers' text API, so the
  // remote holds what a direct setItem would have stored (drivers without raw support would keep bytes as `base64:`
  // text, and some keep bytes that their getItem hands back undecoded). Raw values, and records older than kinds,
  // move as a stream when both tiers can stream it: memory stays bounded by chunk and part sizes.
  const value = kind === "text" ? await _storedText(local, key) : await local.getItemRaw(key, { type: "stream" });
  if (value === null || value === undefined) {
    // The local copy is gone: fine if the remote already holds it (a repeated transfer after transferAndDelete).
    if (await remote.hasItem(key)) return true;
    throw _error(`transfer of "${key}": the local copy is missing and the remote has none`, {
      key,
      retryable: false,
    });
  }
  // Storage.setItem stringifies a string as itself, so the stored text arrives unchanged.
  await (kind === "text" ? remote.setItem(key, value) : remote.setItemRaw(key, value));
  return true;
}

/** The text the driver under `storage` stored for `key`: Storage.getItem would parse it (destr). */
function _storedText(storage: TaskContext["local"], key: string): Promise<unknown> {
  const { base, driver } = storage.getMount(key);
  return Promise.resolve(driver.getItem(key.slice(base.length), {}));
}

/** Stream the local copy to the remote. The default task. */
export const transfer: Task = { name: "transfer", run: _copy };

/**
 * Stream the local copy to the remote, then remove the local copy, once the remote holds this generation and
 * only if no newer write has begun. Reads never miss the value in between: they fall back to the remote.
 */
export const transferAndDelete: Task = { name: "transferAndDelete", run: _copy, deleteLocal: true };
