import { _error } from "./_errors.ts";

const MAX_KEY_LENGTH = 1024;
// Control characters would end up in file names, HTTP paths and job bodies.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001F\u007F]/;

/**
 * Keys are unstorage keys (`a:b:c`). Rejected here, before any tier or the state store is touched:
 * non-strings, empty keys, over-long keys, control characters and `.`/`..` segments (path traversal on fs and S3).
 */
export function _assertKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length === 0) {
    throw _error(`invalid key ${JSON.stringify(key)}: expected a non-empty string`, { retryable: false });
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw _error(`invalid key "${key.slice(0, 64)}…": longer than ${MAX_KEY_LENGTH} characters`, {
      key,
      retryable: false,
    });
  }
  if (CONTROL_CHARS.test(key)) {
    throw _error(`invalid key ${JSON.stringify(key)}: contains control characters`, { key, retryable: false });
  }
  if (key.split(/[:/\\]/).some((segment) => segment === "." || segment === "..")) {
    throw _error(`invalid key "${key}": "." and ".." segments are not allowed`, { key, retryable: false });
  }
}

/** unstorage's key normalisation: `/` and `\` become `:`, no separators at either end, none doubled. */
export function _normalizeKey(key: string | undefined): string {
  return _normalized(key, ":");
}

/** The same key as a path: `:` and `\` become `/` (object keys, file paths). */
export function _keyPath(key: string | undefined): string {
  return _normalized(key, "/");
}

/** The depth of a normalised key: `a` is 0, `a:b` is 1. */
export function _keyDepth(key: string): number {
  let depth = 0;
  for (let i = key.indexOf(":"); i !== -1; i = key.indexOf(":", i + 1)) depth++;
  return depth;
}

// --- internal ---

// Vendored from unstorage's driver utils (`normalizeKey`), with the same behaviour.
function _normalized(key: string | undefined, sep: ":" | "/"): string {
  if (!key) return "";
  return key
    .replace(/[:/\\]/g, sep)
    .replace(sep === ":" ? /:+/g : /\/+/g, sep)
    .replace(sep === ":" ? /^:|:$/g : /^\/|\/$/g, "");
}
