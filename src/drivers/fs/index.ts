import type { FileHandle } from "node:fs/promises";
import { open, readFile, readdir, rmdir, stat, unlink } from "node:fs/promises";
import { resolve } from "node:path";
import type { Driver, StorageMeta } from "unstorage";
import { createError, createRequiredError, rangeOf, type ByteRange } from "../_utils.ts";
import { ignoreMatcher, isTempName, keySegments, pathOf } from "./_paths.ts";
import { fileStream, writeAtomic } from "./_io.ts";
import { rangeBytes, rangeStream } from "./_range.ts";

export type { ByteRange } from "../_utils.ts";

export interface FsDriverOptions {
  /** Directory holding the files; created on first write. Required. @example "./.data/uploads" */
  base: string;
  /** Globs (`*`, `**`, `?`) or RegExps of paths relative to `base` that are neither listed nor cleared. Default `["**\/node_modules/**", "**\/.git/**"]`. */
  ignore?: (string | RegExp)[];
  /** Refuse writes, removals and clear with an error. Default `false`. */
  readOnly?: boolean;
  /** Make `clear()` do nothing. Default `false`. */
  noClear?: boolean;
}

export interface FsDriverInstance {
  /** The base directory, absolute. */
  base: string;
  /** The file path of a key (validated: never outside `base`). */
  path(key: string): string;
}

const DRIVER_NAME = "queued-storage:fs";
const DEFAULT_IGNORE = ["**/node_modules/**", "**/.git/**"];

/**
 * Streaming, atomic file-system driver for Node, Deno and Bun: writes go to a temp file that is renamed into place,
 * `setItemRaw` takes streams and `getItemRaw(key, { type: "stream" })` returns one; memory stays at one chunk.
 * `getItemRaw(key, { type: "stream", range: { offset, length } })` reads only that byte range (positional reads).
 * @example
 * const storage = createStorage({ driver: fsDriver({ base: "./.data/uploads" }) });
 * await storage.setItemRaw("videos:a.mp4", request.body);
 */
export default function fsDriver(options: FsDriverOptions): Driver<FsDriverOptions, FsDriverInstance> {
  let _root: string | undefined;
  let _ignored: ((relative: string) => boolean) | undefined;
  const openStreams = new Set<FileHandle>();
  const root = (): string => {
    if (!options?.base) throw createRequiredError(DRIVER_NAME, "base");
    return (_root ??= resolve(options.base));
  };
  const ignored = (relative: string): boolean => (_ignored ??= ignoreMatcher(options.ignore ?? DEFAULT_IGNORE))(relative);
  const fail = (error: unknown): Error => createError(DRIVER_NAME, (error as Error).message, { cause: error });
  const pathFor = (key: string, what: string): string => {
    try {
      return pathOf(root(), keySegments(key, what), what);
    } catch (error) {
      throw fail(error);
    }
  };
  const writable = (what: string): void => {
    if (options.readOnly) throw createError(DRIVER_NAME, `${what}: the driver is read-only (option \`readOnly\`).`);
  };
  const write = async (key: string, value: unknown, opts: TransactionOptions, what: string): Promise<void> => {
    writable(`${what}("${key}")`);
    const path = pathFor(key, `${what}("${key}")`);
    if (!isWritable(value)) {
      throw createError(DRIVER_NAME, `${what}("${key}"): unsupported value of type ${typeName(value)}; expected ` +
        "Uint8Array, ArrayBuffer, Blob, ReadableStream or string");
    }
    try {
      await writeAtomic(path, value, opts.signal);
    } catch (error) {
      throw createError(DRIVER_NAME, `${what}("${key}") failed: ${(error as Error).message}`, { cause: error });
    }
  };
  /** Files under a base as keys, depth-limited, skipping temp files and ignored paths. */
  const list = async (base: string | undefined, maxDepth: number | undefined): Promise<string[][]> => {
    const start = keySegments(base, `getKeys("${base ?? ""}")`, true);
    const found: string[][] = [];
    const walk = async (segments: string[]): Promise<void> => {
      const entries = await readdir(pathOf(root(), segments, "getKeys"), { withFileTypes: true }).catch(missingAs([]));
      for (const entry of entries) {
        const name = String(entry.name);
        if (isTempName(name) || name.includes(":") || ignored([...segments, name].join("/"))) continue;
        if (entry.isDirectory()) {
          if (maxDepth === undefined || segments.length + 1 <= maxDepth) await walk([...segments, name]);
        } else if (entry.isFile() && (maxDepth === undefined || segments.length <= maxDepth)) {
          found.push([...segments, name]);
        }
      }
    };
    await walk(start);
    return found;
  };
  const flags = { maxDepth: true, streams: true, ranges: true };

  return {
    name: DRIVER_NAME,
    options,
    flags,
    getInstance: (): FsDriverInstance => ({ base: root(), path: (key) => pathFor(key, `path("${key}")`) }),
    async hasItem(key) {
      const stats = await stat(pathFor(key, `hasItem("${key}")`)).catch(missingAs(null));
      return stats?.isFile() ?? false;
    },
    async getItem(key) {
      return readFile(pathFor(key, `getItem("${key}")`), "utf8").catch(missingAs(null));
    },
    async getItemRaw(key, opts: TransactionOptions = {}) {
      const path = pathFor(key, `getItemRaw("${key}")`);
      const range = rangeOf(DRIVER_NAME, opts);
      if (range) {
        // Positional reads of the asked bytes only (serving a Range request of a large file).
        const handle = await open(path, "r").catch(missingAs(null));
        if (!handle) return null;
        if (opts.type !== "stream") return rangeBytes(handle, range).finally(() => handle.close());
        openStreams.add(handle);
        return rangeStream(handle, range, () => openStreams.delete(handle));
      }
      if (opts.type !== "stream") {
        // A plain Uint8Array view (no copy), as from the S3 driver, rather than Node's Buffer subclass.
        const buffer = await readFile(path).catch(missingAs(null));
        return buffer && new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      }
      // Open first, so that a missing key is `null` now rather than a stream that errors later.
      const handle = await open(path, "r").catch(missingAs(null));
      if (!handle) return null;
      openStreams.add(handle);
      return fileStream(handle, () => openStreams.delete(handle));
    },
    async getMeta(key): Promise<StorageMeta | null> {
      const stats = await stat(pathFor(key, `getMeta("${key}")`)).catch(missingAs(null));
      if (!stats?.isFile()) return null;
      return { size: stats.size, mtime: stats.mtime, atime: stats.atime, birthtime: stats.birthtime };
    },
    async setItem(key, value: string, opts: TransactionOptions = {}) {
      await write(key, value, opts, "setItem");
    },
    async setItemRaw(key, value: unknown, opts: TransactionOptions = {}) {
      await write(key, value, opts, "setItemRaw");
    },
    async removeItem(key) {
      writable(`removeItem("${key}")`);
      await unlink(pathFor(key, `removeItem("${key}")`)).catch(missingAs(undefined));
    },
    async getKeys(base, opts: { maxDepth?: number } = {}) {
      try {
        return (await list(base, opts.maxDepth)).map((segments) => segments.join(":"));
      } catch (error) {
        throw fail(error);
      }
    },
    async clear(base) {
      if (options.noClear) return;
      writable(`clear("${base ?? ""}")`);
      const files = await list(base, undefined).catch((error) => Promise.reject(fail(error)));
      await Promise.all(files.map((segments) => unlink(pathOf(root(), segments, "clear")).catch(missingAs(undefined))));
      // Then the directories left empty, deepest first; never the driver's own directory.
      const dirs = new Set(files.flatMap((segments) => segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join("/"))));
      for (const dir of [...dirs].sort((a, b) => b.length - a.length)) {
        await rmdir(pathOf(root(), dir.split("/"), "clear")).catch(() => {});
      }
    },
    async dispose() {
      // Streams handed out and not read to the end still hold their file open.
      const handles = [...openStreams];
      openStreams.clear();
      await Promise.all(handles.map((handle) => handle.close().catch(() => {})));
    },
  };
}

// --- internal ---

interface TransactionOptions {
  type?: string;
  range?: ByteRange;
  signal?: AbortSignal;
}

/** A catch handler turning "no such file" (also "a parent is a file" and "is a directory") into `value`. */
function missingAs<T>(value: T): (error: NodeJS.ErrnoException) => T {
  return (error) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR" || error.code === "EISDIR") return value;
    throw error;
  };
}

function isWritable(value: unknown): boolean {
  return typeof value === "string" || value instanceof Uint8Array || value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) || (typeof Blob !== "undefined" && value instanceof Blob) || value instanceof ReadableStream;
}

function typeName(value: unknown): string {
  return value === null ? "null" : typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
}
