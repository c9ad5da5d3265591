import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/**
 * `queued-storage[/subpath]` → this repository's source file, from deno.json's exports (which mirror package.json's):
 * the examples import the package by name, as users do, and run against the source here.
 */
export function sourceAliases(): Record<string, string> {
  const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as { exports: Record<string, string> };
  const aliases: Record<string, string> = {};
  // Longest first: "queued-storage/drivers/s3" must win over "queued-storage".
  for (const [subpath, file] of Object.entries(deno.exports).sort(([a], [b]) => b.length - a.length)) {
    aliases[`queued-storage${subpath.slice(1)}`] = join(ROOT, file);
  }
  return aliases;
}
