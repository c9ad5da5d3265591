import type { TempSweep } from "./_temp.ts";

export interface FsDriverOptions {
  /** Directory holding the files; created on first write. Required. @example "./.data/uploads" */
  base: string;
  /**
   * Globs (`*`, `**`, `?`) or RegExps of paths relative to `base` that are not keys: neither listed nor cleared, and
   * refused (with an error naming the key) by every other operation. Default `["**\/node_modules/**", "**\/.git/**"]`.
   */
  ignore?: (string | RegExp)[];
  /** Refuse writes, removals and clear with an error. Default `false`. */
  readOnly?: boolean;
  /** Make `clear()` do nothing. Default `false`. */
  noClear?: boolean;
  /**
   * Temp files of interrupted writes (a killed process) are removed on first use and by `getInstance().cleanup()`
   * once their writer is known dead (same host, pid gone) or, failing that, once unmodified for this many
   * milliseconds (a live writer keeps touching its file). Default one hour.
   * @example staleTempMs: 24 * 60 * 60 * 1000 // a directory shared with hosts whose uploads may stall for long
   */
  staleTempMs?: number;
  /**
   * Quiet time in ms after the last file-system event of a path before `watch` reports it: one write raises several
   * events (temp file, rename), reported once. Default `50`.
   */
  watchDebounce?: number;
}

export interface FsDriverInstance {
  /** The base directory, absolute. */
  base: string;
  /** The file path of a key (validated lexically: never outside `base`). */
  path(key: string): string;
  /** Remove the temp files of dead writers now (see `staleTempMs`); resolves with what was removed and kept. */
  cleanup(): Promise<TempSweep>;
}
