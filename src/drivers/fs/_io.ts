import { Buffer } from "node:buffer";
import type { FileHandle } from "node:fs/promises";
import { link, mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { blobStream, chunkBytes, withKnownLength, type ByteRange } from "../../_streams.ts";
import type { _ReadHandle } from "./_file.ts";
import { _tempName } from "./_temp.ts";

const READ_CHUNK = 64 * 1024;
const WRITE_CHUNK = 256 * 1024;

/**
 * Atomic write: into a temp file in the target's directory, fsync, rename over the target. Readers see the old
 * file or the new one, never a part; a failure (or a crash) leaves the old content, and a failure removes the temp.
 */
export async function writeAtomic(path: string, value: unknown, signal?: AbortSignal, exclusive = false): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, _tempName(basename(path)));
  const handle = await open(temp, "wx");
  try {
    await writeValue(handle, value, signal);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    // Create-only: link() fails with EEXIST when the target exists, atomically, also between processes.
    if (exclusive) await link(temp, path).finally(() => rm(temp, { force: true }));
    else await renameRetrying(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** Files up to this size are read in one call and handed out as one chunk (a 16 KiB upload is one read, not a stream). */
const SMALL_FILE = 256 * 1024;

/**
 * A stream over an open file, marked with the file's size and mtime at open (fstat of the handle: with atomic writes
 * that is exactly the content this handle reads), so that an S3 upload knows its Content-Length up front and the file
 * handler its validators without a stat.
 * Small files are read whole in one call and the handle is closed before this returns; larger ones are read as
 * pulled, the handle closing at the end or on cancel. `onClose` runs once the handle is (being) closed.
 */
export async function fileStream(handle: _ReadHandle, onClose: () => void): Promise<ReadableStream<Uint8Array>> {
  let size: number;
  let mtime: Date;
  try {
    ({ size, mtime } = await handle.stat());
  } catch (error) {
    onClose();
    await handle.close().catch(() => {});
    throw error;
  }
  if (size > SMALL_FILE) return withKnownLength(handleStream(handle, onClose), size, mtime);
  let bytes: Uint8Array;
  try {
    bytes = await readWhole(handle, size);
  } finally {
    onClose();
    await handle.close();
  }
  return withKnownLength(
    new ReadableStream<Uint8Array>({
      start(controller) {
        if (bytes.byteLength > 0) controller.enqueue(bytes);
        controller.close();
      },
    }),
    bytes.byteLength,
    mtime,
  );
}

// --- internal ---

/**
 * A byte stream of an open file, read as it is pulled: default readers get fresh chunks of `chunk` bytes, BYOB readers
 * (our S3 driver's part reader) have the file read straight into their buffer. With `range`, positional reads of
 * those bytes only: nothing before the offset is read, and reading stops at the range's end (or the file's). The
 * handle closes at the end or on cancel.
 */
export function handleStream(
  handle: _ReadHandle,
  onClose: () => void,
  options: { range?: ByteRange; chunk?: number } = {},
): ReadableStream<Uint8Array> {
  const { range, chunk = READ_CHUNK } = options;
  // `null`: read on from the handle's own position (the whole file, sequentially).
  let position: number | null = range ? range.offset : null;
  const end = range?.length === undefined ? Number.POSITIVE_INFINITY : range.offset + range.length;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    onClose();
    await handle.close();
  };
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: chunk,
    async pull(controller) {
      // With autoAllocateChunkSize there is always a request, even for default readers.
      const request = controller.byobRequest!;
      const view = request.view as Uint8Array;
      try {
        const want = position === null ? view.byteLength : Math.min(view.byteLength, end - position);
        const { bytesRead } = want > 0 ? await handle.read(view, 0, want, position) : { bytesRead: 0 };
        if (position !== null) position += bytesRead;
        if (bytesRead === 0) {
          await close();
          controller.close();
          request.respond(0);
        } else {
          request.respond(bytesRead);
        }
      } catch (error) {
        await close().catch(() => {});
        controller.error(error);
      }
    },
    cancel: close,
  }) as ReadableStream<Uint8Array>;
}

/** `size` bytes from the start of the file, in as few reads as the OS allows; fewer if the file ends sooner. */
async function readWhole(handle: _ReadHandle, size: number): Promise<Uint8Array> {
  // Unpooled and not zero-filled: every byte is overwritten, and a view on Node's shared pool could be detached by a
  // consumer transferring its buffer.
  const bytes = Buffer.allocUnsafeSlow(size);
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, filled);
}

async function writeValue(handle: FileHandle, value: unknown, signal?: AbortSignal): Promise<void> {
  if (typeof value === "string" || value instanceof Uint8Array || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return writeAll(handle, chunkBytes(value));
  }
  const stream = typeof Blob !== "undefined" && value instanceof Blob ? blobStream(value) : (value as ReadableStream<unknown>);
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = (stream as ReadableStream<Uint8Array>).getReader({ mode: "byob" });
  } catch {
    // not a byte stream: read its chunks as they come
  }
  const reader = byob ?? stream.getReader();
  try {
    if (byob) {
      // A byte stream fills one reused buffer: no allocation per chunk.
      let memory = new ArrayBuffer(WRITE_CHUNK);
      for (;;) {
        const { done, value: view } = await byob.read(new Uint8Array(memory));
        if (done || !view) break;
        signal?.throwIfAborted();
        await writeAll(handle, view);
        memory = view.buffer as ArrayBuffer;
      }
    } else {
      const chunks = reader as ReadableStreamDefaultReader<unknown>;
      for (let result = await chunks.read(); !result.done; result = await chunks.read()) {
        signal?.throwIfAborted();
        await writeAll(handle, chunkBytes(result.value));
      }
    }
  } catch (error) {
    reader.cancel(error).catch(() => {});
    throw error;
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

// On Windows, renaming over a file another process has open fails for a moment (EPERM/EBUSY/EACCES).
async function renameRetrying(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await rename(from, to);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (attempt >= 5 || !(code === "EPERM" || code === "EBUSY" || code === "EACCES")) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
    }
  }
}

// Makes the rename itself durable. Not possible everywhere (Windows cannot open directories): best effort.
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // durability of the directory entry is then up to the OS
  } finally {
    await handle?.close().catch(() => {});
  }
}
