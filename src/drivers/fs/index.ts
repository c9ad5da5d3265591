import { readFile, rmdir, stat, unlink } from "node:fs/promises";
import { resolve } from "node:path";
import type { Driver, StorageMeta } from "unstorage";
import { createError, createRequiredError } from "../../_errors.ts";
import { rangeOf, type ByteRange } from "../../_streams.ts";
import type { FsDriverInstance, FsDriverOptions } from "./_options.ts";
import { ignoreMatcher, keySegments, pathOf } from "./_paths.ts";
import { _openForReading, type _ReadHandle } from "./_file.ts";
import { fileStream, writeAtomic } from "./_io.ts";
import { _listFiles } from "./_list.ts";
import { missingAs } from "./_missing.ts";
import { rangeBytes, rangeStream } from "./_range.ts";
import { _linkGuard } from "./_realpath.ts";
import { _isTempName, _sweepTemps, type TempSweep } from "./_temp.ts";
import { watchTree } from "./_watch.ts";

export type { ByteRange } from "../../_streams.ts";
export type { TempSweep } from "./_temp.ts";
export type { FsDriverInstance, FsDriverOptions } from "./_options.ts";

const DRIVER_NAME = "queued-storage:fs";
const DEFAULT_IGNORE = ["**/node_modules/**", "**/.git/**"];

/**
 * Streaming, atomic file-system driver for Node, Deno and Bun: writes go to a temp file that is renamed into place,
 * `setItemRaw` takes streams and `getItemRaw(key, { type: "stream" })` returns one; memory stays at one chunk.
 * `watch` reports changes made by anyone (recursive `fs.watch`), debounced per key.
 * `getItemRaw(key, { type: "stream", range: { offset, length } })` reads only that byte range (positional reads).
 * @example
 * const storage = createStorage({ driver: fsDriver({ base: "./.data/uploads" }) });
 * await storage.setItemRaw("videos:a.mp4", request.body);
 */
export default function fsDriver(options: FsDriverOptions): Driver<FsDriverOptions, FsDriverInstance> {
  let _root: string | undefined;
  let _ignored: ((relative: string) => boolean) | undefined;
  const openStreams = new Set<_ReadHandle>();
  const unwatchers = new Set<() => void>();
  const root = (): string => {
    if (!options?.base) throw createRequiredError(DRIVER_NAME, "base");
    return (_root ??= resolve(options.base));
  };
  const ignored = (relative: string): boolean => (_ignored ??= ignoreMatcher(options.ignore ?? DEFAULT_IGNORE))(relative);
  const fail = (error: unknown): Error => createError(DRIVER_NAME, (error as Error).message, { cause: error });
  const pathFor = (key: string, what: string): string => {
    try {
      const segments = keySegments(key, what);
      // Such paths are not keys (listing and clear skip them): refusing them keeps every operation in agreement.
      const temp = segments.find(_isTempName);
      if (temp) throw new Error(`${what}: invalid key ${JSON.stringify(key)}: ${JSON.stringify(temp)} is a temp-file name`);
      if (ignored(segments.join("/"))) throw new Error(`${what}: invalid key ${JSON.stringify(key)}: matches option \`ignore\``);
      return pathOf(root(), segments, what);
    } catch (error) {
      throw fail(error);
    }
  };
  const linkGuard = _linkGuard(root);
  let swept: Promise<TempSweep> | undefined;
  const cleanup = (): Promise<TempSweep> =>
    _sweepTemps(root(), options.staleTempMs ?? 3_600_000, (relative) => ignored(relative));
  // The first use of a writable driver starts a sweep of stale temp files in the background.
  const firstUse = (): void => {
    if (!options.readOnly) swept ??= cleanup().catch(() => ({ removed: [], kept: [] }));
  };
  /** The path of a key, checked lexically and for links. */
  const checked = async (key: string, what: string): Promise<string> => {
    const path = pathFor(key, what);
    firstUse();
    await linkGuard(path, what).catch((error) => Promise.reject(fail(error)));
    return path;
  };
  const writable = (what: string): void => {
    if (options.readOnly) throw createError(DRIVER_NAME, `${what}: the driver is read-only (option \`readOnly\`).`);
  };
  const write = async (key: string, value: unknown, opts: TransactionOptions, what: string): Promise<void> => {
    writable(`${what}("${key}")`);
    const path = await checked(key, `${what}("${key}")`);
    if (!isWritable(value)) {
      throw createError(DRIVER_NAME, `${what}("${key}"): unsupported value of type ${typeName(value)}; expected ` +
        "Uint8Array, ArrayBuffer, Blob, ReadableStream or string");
    }
    const exclusive = (opts as { ifNoneMatch?: string }).ifNoneMatch === "*";
    try {
      await writeAtomic(path, value, opts.signal, exclusive);
    } catch (error) {
      // As S3 answers a conditional write that does not hold: 412, so callers tell "exists" from a failure.
      const status = exclusive && (error as NodeJS.ErrnoException).code === "EEXIST" ? { status: 412 } : {};
      throw Object.assign(createError(DRIVER_NAME, `${what}("${key}") failed: ${(error as Error).message}`, { cause: error }), status);
    }
  };
  /** Files under a base as keys, depth-limited, skipping temp files and ignored paths. */
  const list = async (base: string | undefined, maxDepth: number | undefined): Promise<string[][]> => {
    const start = keySegments(base, `getKeys("${base ?? ""}")`, true);
    firstUse();
    await linkGuard(pathOf(root(), start, "getKeys"), `getKeys("${base ?? ""}")`);
    return _listFiles(root(), start, maxDepth, ignored);
  };
  // `streamMeta`: whole-file streams carry the size and mtime of the file they read (see `fileStream`).
  // `exclusiveCreate`: `setItem(key, value, { ifNoneMatch: "*" })` creates only (412 when the key exists), atomically
  // across processes; storageFlags takes its owner record with it.
  const flags = { maxDepth: true, streams: true, ranges: true, streamMeta: true, exclusiveCreate: true };

  return {
    name: DRIVER_NAME,
    options,
    flags,
    getInstance: (): FsDriverInstance => ({ base: root(), path: (key) => pathFor(key, `path("${key}")`), cleanup }),
    async hasItem(key) {
      const stats = await stat(await checked(key, `hasItem("${key}")`)).catch(missingAs(null));
      return stats?.isFile() ?? false;
    },
    async getItem(key) {
      return readFile(await checked(key, `getItem("${key}")`), "utf8").catch(missingAs(null));
    },
    async getItemRaw(key, opts: TransactionOptions = {}) {
      const path = await checked(key, `getItemRaw("${key}")`);
      const range = rangeOf(DRIVER_NAME, opts);
      if (range) {
        // Positional reads of the asked bytes only (serving a Range request of a large file).
        const handle = await _openForReading(path).catch(missingAs(null));
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
      const handle = await _openForReading(path).catch(missingAs(null));
      if (!handle) return null;
      openStreams.add(handle);
      return await fileStream(handle, () => openStreams.delete(handle));
    },
    async getMeta(key): Promise<StorageMeta | null> {
      const stats = await stat(await checked(key, `getMeta("${key}")`)).catch(missingAs(null));
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
      await unlink(await checked(key, `removeItem("${key}")`)).catch(missingAs(undefined));
    },
    async getKeys(base, opts: { maxDepth?: number } = {}) {
      try {
        // `/`-separated like unstorage's fs driver (the storage normalizes them to `:` keys).
        return (await list(base, opts.maxDepth)).map((segments) => segments.join("/"));
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
    async watch(callback) {
      const stop = await watchTree(
        { root: root(), ignored, debounceMs: options.watchDebounce ?? 50 },
        callback,
      ).catch((error) => Promise.reject(fail(error)));
      const unwatch = (): void => void (unwatchers.delete(unwatch), stop());
      unwatchers.add(unwatch);
      return unwatch;
    },
    async dispose() {
      for (const unwatch of [...unwatchers]) unwatch();
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

function isWritable(value: unknown): boolean {
  return typeof value === "string" || value instanceof Uint8Array || value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) || (typeof Blob !== "undefined" && value instanceof Blob) || value instanceof ReadableStream;
}

function typeName(value: unknown): string {
  return value === null ? "null" : typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
}
