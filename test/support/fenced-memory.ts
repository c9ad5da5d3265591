import type { Driver } from "unstorage";

interface _Entry {
  value: string | Uint8Array;
  etag: string;
  meta: Record<string, string>;
}

/**
 * An in-memory remote with the conditional writes our S3 driver has (`flags.conditionalWrites`): `ifMatch` /
 * `ifNoneMatch: "*"` answered with a 412 error, user metadata (the generation) stored with the object and returned by
 * `getMeta`. A commit held past its lease is refused the way S3 refuses it, without a network in the loop.
 */
export function fencedMemoryDriver(): Driver & { storedKind(key: string): "text" | "raw" | null } {
  const entries = new Map<string, _Entry>();
  let etags = 0;
  const put = (key: string, value: string | Uint8Array, opts: { ifMatch?: string; ifNoneMatch?: string; meta?: Record<string, string> } = {}): void => {
    const current = entries.get(key);
    if (opts.ifNoneMatch === "*" && current) throw Object.assign(new Error(`412 Precondition Failed: "${key}" exists`), { status: 412 });
    if (opts.ifMatch !== undefined && current?.etag !== opts.ifMatch) {
      throw Object.assign(new Error(`412 Precondition Failed: "${key}" changed`), { status: 412 });
    }
    entries.set(key, { value, etag: `"${++etags}"`, meta: { ...opts.meta } });
  };
  return {
    name: "fenced-memory",
    flags: { conditionalWrites: true } as Driver["flags"],
    hasItem: (key) => entries.has(key),
    getItem: (key) => {
      const value = entries.get(key)?.value;
      return value === undefined ? null : typeof value === "string" ? value : new TextDecoder().decode(value);
    },
    getItemRaw: (key) => {
      const value = entries.get(key)?.value;
      return value === undefined ? null : typeof value === "string" ? new TextEncoder().encode(value) : value;
    },
    setItem: (key, value, opts) => put(key, value, opts as object),
    setItemRaw: (key, value, opts) => put(key, value instanceof Uint8Array ? value.slice() : new Uint8Array(value as ArrayBuffer), opts as object),
    removeItem: (key) => void entries.delete(key),
    getMeta: (key) => {
      const entry = entries.get(key);
      return entry ? { etag: entry.etag, ...entry.meta } : null;
    },
    getKeys: () => [...entries.keys()],
    clear: () => entries.clear(),
    /** How the value arrived: `setItem` (text) or `setItemRaw` (raw), so a test checks that values keep their kind. */
    storedKind: (key) => {
      const value = entries.get(key)?.value;
      return value === undefined ? null : typeof value === "string" ? "text" : "raw";
    },
  };
}
