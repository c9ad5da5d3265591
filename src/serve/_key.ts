import { _assertKey } from "../_keys.ts";
import { _messageOf } from "../_errors.ts";

/** The key addressed by a request path, or why it is refused: `null` when the path is not under the route. */
export type _KeyResult = { key: string } | { error: string } | null;

/**
 * `/files/images/a%20b.png` under route `/files/` → `images:a b.png`. Refused (400): empty segments (`a//b`, a
 * trailing `/`), undecodable escapes, segments holding `:` `/` `\` once decoded (they would change the key's shape),
 * `.`/`..`, and whatever every key is refused for (length, control characters).
 */
export function _keyFromPath(pathname: string, route: string): _KeyResult {
  if (!pathname.startsWith(route)) return null;
  const rest = pathname.slice(route.length);
  if (!rest) return { error: "no key in the path" };
  const segments: string[] = [];
  for (const raw of rest.split("/")) {
    if (!raw) return { error: "empty path segment" };
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { error: `undecodable path segment "${raw.slice(0, 64)}"` };
    }
    if (/[:/\\]/.test(segment)) return { error: `path segment "${raw.slice(0, 64)}" holds ":", "/" or "\\"` };
    segments.push(segment);
  }
  const key = segments.join(":");
  try {
    _assertKey(key);
  } catch (error) {
    return { error: _messageOf(error).replace(/^\[queued-storage\] /, "") };
  }
  return { key };
}
