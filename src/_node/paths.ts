import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The directory of a module URL as a file path. Build-time only (the Nitro module runs in Node while Nitro builds);
 * kept under `src/_node/` so every other file outside `drivers/fs` stays free of Node built-ins.
 */
export function _dirOf(url: string | URL): string {
  return fileURLToPath(new URL("./", url));
}

/** `path` resolved against the directory `dir` (build-time only, like `_dirOf`). */
export function _resolveIn(dir: string, path: string): string {
  return resolve(dir, path);
}
