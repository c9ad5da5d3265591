import { join, sep } from "node:path";

/**
 * The segments of a key (`a:b:c`, `a/b/c`), refusing anything that could leave the base directory: absolute
 * paths, `.`/`..` segments, NUL bytes. `what` names the call for the error. An empty key is allowed only for bases.
 */
export function keySegments(key: string | undefined, what: string, allowEmpty = false): string[] {
  const value = key ?? "";
  const fail = (why: string): Error => new Error(`${what}: invalid key ${JSON.stringify(value)}: ${why}`);
  if (value.includes("\0")) throw fail("contains a NUL byte");
  if (/^[/\\]/.test(value) || /^[a-zA-Z]:[/\\]/.test(value)) throw fail("absolute paths are not allowed");
  const segments = value.split(/[:/\\]/).filter((s) => s !== "");
  if (segments.some((s) => s === "." || s === "..")) throw fail('"." and ".." segments are not allowed (path traversal)');
  if (segments.length === 0 && !allowEmpty) throw fail("empty");
  return segments;
}

/** `root` joined with the segments, checked once more to be inside `root`. */
export function pathOf(root: string, segments: string[], what: string): string {
  const path = join(root, ...segments);
  if (path !== root && !path.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new Error(`${what}: invalid key ${JSON.stringify(segments.join(":"))}: resolves outside the base directory`);
  }
  return path;
}

/** A predicate over `/`-separated paths relative to the base, from glob strings (`*`, `**`, `?`) and RegExps. */
export function ignoreMatcher(patterns: (string | RegExp)[]): (relative: string) => boolean {
  const regexps = patterns.map((p) => (typeof p === "string" ? globToRegExp(p) : p));
  return (relative) => regexps.some((re) => re.test(relative));
}

// --- internal ---

function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === "*" && glob[i + 1] === "*") {
      const slashAfter = glob[i + 2] === "/";
      const atEnd = i + 2 === glob.length;
      // `**/` is any number of directories (none included); a trailing `/**` also matches the directory itself.
      if (slashAfter) {
        source += "(?:.*/)?";
        i += 2;
      } else if (atEnd && source.endsWith("/")) {
        source = `${source.slice(0, -1)}(?:/.*)?`;
        i += 1;
      } else {
        source += ".*";
        i += 1;
      }
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
