import { watch as watchFs, type FSWatcher } from "node:fs";
import { mkdir, readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { _isTempName } from "./_temp.ts";

/** What unstorage's watch callback receives: the event and the key relative to the driver, `:`-separated. */
export type WatchCallback = (event: "update" | "remove", key: string) => void;

export interface WatchTreeOptions {
  root: string;
  /** Paths relative to `root`, `/`-separated, that are not keys (the driver's `ignore`). */
  ignored(relative: string): boolean;
  /** Quiet time in ms after the last event of a path before it is reported. */
  debounceMs: number;
}

/**
 * Watch `root` recursively with Node's `fs.watch` and report each changed key once per burst: an atomic write shows
 * up as several raw events (the temp file, the rename), so events of a path are coalesced for `debounceMs`, then the
 * path is looked at: a file is an `update`, a missing path a `remove`. Directories and temp files are never keys.
 * Resolves once watching (the directory is created if needed); the function it resolves to stops watching.
 */
export async function watchTree(options: WatchTreeOptions, callback: WatchCallback): Promise<() => void> {
  const { root, ignored, debounceMs } = options;
  await mkdir(root, { recursive: true });
  // Directories are not keys: remember them, so that removing one is not reported as the removal of a key.
  const directories = new Set<string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isDirectory()) directories.add(_relative(root, join(entry.parentPath ?? entry.path, entry.name)));
  }
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  let closed = false;

  const report = async (path: string): Promise<void> => {
    timers.delete(path);
    const stats = await stat(join(root, ...path.split("/"))).catch(() => null);
    if (closed) return;
    if (stats?.isDirectory()) directories.add(path);
    else if (stats?.isFile()) callback("update", path.split("/").join(":"));
    else if (!stats && !directories.delete(path)) callback("remove", path.split("/").join(":"));
  };

  const watcher: FSWatcher = watchFs(root, { recursive: true }, (_event, filename) => {
    if (closed || !filename) return;
    const path = String(filename).split(sep).join("/");
    const segments = path.split("/");
    if (segments.some((s) => s === "" || _isTempName(s) || s.includes(":")) || ignored(path)) return;
    clearTimeout(timers.get(path));
    timers.set(path, setTimeout(() => void report(path).catch(() => {}), debounceMs));
  });
  // A watched directory that disappears (or a platform refusing to watch) must not crash the process.
  watcher.on("error", () => {});

  return () => {
    if (closed) return;
    closed = true;
    watcher.close();
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
  };
}

function _relative(root: string, path: string): string {
  return relative(root, path).split(sep).join("/");
}
