import type { FileHandle } from "node:fs/promises";
import type { ByteRange } from "../_utils.ts";

// Larger than the whole-file stream's 64 KiB: ranges are what an HTTP server streams, and each pull of a web stream
// costs far more than the read itself (256 KiB per pull keeps pace with node:http + fs.createReadStream).
const READ_CHUNK = 256 * 1024;

/**
 * A byte stream of `range` of an open file, by positional reads: the bytes before the offset are never read, and
 * reading stops at the range's end (or the file's). The handle closes at the end or on cancel.
 */
export function rangeStream(handle: FileHandle, range: ByteRange, onClose: () => void): ReadableStream<Uint8Array> {
  let position = range.offset;
  const end = range.length === undefined ? Number.POSITIVE_INFINITY : range.offset + range.length;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    onClose();
    await handle.close();
  };
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: READ_CHUNK,
    async pull(controller) {
      const request = controller.byobRequest!;
      const view = request.view as Uint8Array;
      try {
        const want = Math.min(view.byteLength, end - position);
        const { bytesRead } = want > 0 ? await handle.read(view, 0, want, position) : { bytesRead: 0 };
        position += bytesRead;
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

/** `range` of an open file as bytes (the handle stays open: the caller closes it). */
export async function rangeBytes(handle: FileHandle, range: ByteRange): Promise<Uint8Array> {
  const { size } = await handle.stat();
  const length = Math.max(0, Math.min(range.length ?? size, size - range.offset));
  const bytes = new Uint8Array(length);
  for (let filled = 0; filled < length; ) {
    const { bytesRead } = await handle.read(bytes, filled, length - filled, range.offset + filled);
    if (bytesRead === 0) return bytes.subarray(0, filled);
    filled += bytesRead;
  }
  return bytes;
}
