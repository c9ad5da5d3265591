import { readdir } from "node:fs/promises";
import { missingAs } from "./_missing.ts";
import { pathOf } from "./_paths.ts";
import { _isTempName } from "./_temp.ts";

/**
 * The files under `start` (key segments below `root`) as key segments, at most `maxDepth` directories deep from the
 * root, skipping temp files, names with `:` (not keys: `:` separates key segments) and ignored paths. A directory that
 * is missing (or not a directory) holds nothing.
 */
export async function _listFiles(
  root: string,
  start: string[],
  maxDepth: number | undefined,
  ignored: (relative: string) => boolean,
): Promise<string[][]> {
  const found: string[][] = [];
  const walk = async (segments: string[]): Promise<void> => {
    const entries = await readdir(pathOf(root, segments, "getKeys"), { withFileTypes: true }).catch(missingAs([]));
    for (const entry of entries) {
      const name = String(entry.name);
      if (_isTempName(name) || name.includes(":") || ignored([...segments, name].join("/"))) continue;
      if (entry.isDirectory()) {
        if (maxDepth === undefined || segments.length + 1 <= maxDepth) await walk([...segments, name]);
      } else if (entry.isFile() && (maxDepth === undefined || segments.length <= maxDepth)) {
        found.push([...segments, name]);
      }
    }
  };
  await walk(start);
  return found;
}
