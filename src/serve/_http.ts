// HTTP semantics of serving (RFC 9110): validators, conditional requests, single byte ranges, dispositions.
import type { StorageMeta } from "unstorage";

/** A parsed `Range` header against a representation of `size` bytes. */
export type _RangeRequest =
  | { kind: "none" }
  | { kind: "unsatisfiable" }
  | { kind: "range"; offset: number; length: number };

/**
 * A single `bytes=` range (`a-b`, `a-`, `-n`). Anything else (other units, several ranges, bad syntax) is answered
 * with the whole representation, which RFC 9110 §14.2 allows; a valid range starting past the end is unsatisfiable.
 */
export function _parseRange(header: string | null, size: number): _RangeRequest {
  if (!header) return { kind: "none" };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match || (match[1] === "" && match[2] === "")) return { kind: "none" };
  const [first, last] = [match[1]!, match[2]!];
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    const length = Math.min(suffix, size);
    return { kind: "range", offset: size - length, length };
  }
  const offset = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < offset) return { kind: "none" };
  if (offset >= size) return { kind: "unsatisfiable" };
  return { kind: "range", offset, length: end - offset + 1 };
}

/**
 * The strong ETag of what a tier holds for a generation. The generation alone is not enough: while a write streams
 * in, the record already names the new generation but the file still holds the previous bytes. So the tier's own
 * identity of the bytes (S3's ETag, else size and modification time; a local file is replaced atomically) goes in
 * too. `undefined` when the tier gives nothing that changes with the bytes (then no validator is sent at all).
 */
export function _etagOf(generation: number | undefined, meta: StorageMeta): string | undefined {
  const mtime = _time(meta.mtime);
  const objectTag = typeof meta.etag === "string" ? meta.etag.replace(/^W\//, "").replaceAll('"', "") : undefined;
  const bytes = objectTag ?? (mtime !== undefined && typeof meta.size === "number" ? `${meta.size.toString(36)}.${mtime.toString(36)}` : undefined);
  if (bytes === undefined) return undefined;
  return `"${generation === undefined ? "" : `${generation.toString(36)}-`}${bytes}"`;
}

/** Whether `If-None-Match` matches (weak comparison, `*` matches any existing representation). */
export function _noneMatch(header: string, etag: string | undefined): boolean {
  if (header.trim() === "*") return true;
  if (!etag) return false;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

/** Whether the representation is unchanged since `If-Modified-Since` (HTTP dates have whole seconds). */
export function _notModifiedSince(header: string, lastModified: number | undefined): boolean {
  const since = Date.parse(header);
  if (lastModified === undefined || Number.isNaN(since)) return false;
  return Math.floor(lastModified / 1000) <= Math.floor(since / 1000);
}

/** Whether `If-Range` still names this representation (strong ETag or exact Last-Modified), so a range applies. */
export function _ifRangeHolds(header: string | null, etag: string | undefined, lastModified: number | undefined): boolean {
  if (header === null) return true;
  const value = header.trim();
  if (value.startsWith('"') || value.startsWith("W/")) return etag !== undefined && value === etag;
  const date = Date.parse(value);
  return lastModified !== undefined && !Number.isNaN(date) && Math.floor(lastModified / 1000) === Math.floor(date / 1000);
}

/**
 * `inline` or `attachment` with the key's last segment as file name: an ASCII `filename` (others replaced) and the
 * exact name as RFC 8187 `filename*`.
 */
export function _disposition(type: "inline" | "attachment", key: string): string {
  const name = key.slice(key.lastIndexOf(":") + 1);
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"${ascii === name ? "" : `; filename*=UTF-8''${encoded}`}`;
}

/** Epoch ms of a meta time (Date, string or number); `undefined` when absent or invalid. */
export function _time(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : typeof value === "number" ? value : Date.parse(String(value));
  return Number.isFinite(ms) ? ms : undefined;
}
