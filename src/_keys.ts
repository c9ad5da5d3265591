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

/** unstorage's key normalisation: `/` and `\` become `:`, no leading or trailing separators. */
export function _normalizeKey(key: string): string {
  return key.replace(/[/\\]/g, ":").replace(/:+/g, ":").replace(/^:|:$/g, "");
}

/** The depth of a key: `a` is 0, `a:b` is 1. */
export function _keyDepth(key: string): number {
  let depth = 0;
  for (const char of key) if (char === ":") depth++;
  return depth;
}
