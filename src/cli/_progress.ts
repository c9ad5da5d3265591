import type { QueuedStorageControls } from "../types.ts";
import { _bar } from "./_format.ts";

/** Show a bar once a transfer has run this long. */
const AFTER_MS = 1000;

/**
 * Wait for the in-process queue, drawing a progress bar on stderr (a terminal) for `keys` whose transfer takes
 * longer than a second and reports its bytes (`status(key).progress`). Remote queues (QStash) return at once.
 */
export async function _drainShowingProgress(controls: QueuedStorageControls, keys: string[], show: boolean): Promise<void> {
  const drained = controls.drain();
  if (!show || keys.length === 0 || !process.stderr.isTTY && !process.env.QUEUED_STORAGE_PROGRESS) return drained;
  const started = Date.now();
  let done = false;
  let drawn = false;
  void drained.finally(() => (done = true));
  while (!done) {
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 200))]);
    if (done || Date.now() - started < AFTER_MS) continue;
    for (const key of keys) {
      const progress = (await controls.status(key))?.progress;
      if (!progress) continue;
      process.stderr.write(`${process.stderr.isTTY ? "\r\u001b[2K" : ""}${key} ${_bar(progress.bytes, progress.total)}${process.stderr.isTTY ? "" : "\n"}`);
      drawn = true;
      break;
    }
  }
  if (drawn && process.stderr.isTTY) process.stderr.write("\n");
  return drained;
}
