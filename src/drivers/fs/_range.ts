import type { ByteRange } from "../../_streams.ts";
import type { _ReadHandle } from "./_file.ts";
import { handleStream } from "./_io.ts";

// Larger than the whole-file stream's 64 KiB: ranges are what an HTTP server streams, and each pull of a web stream
// costs far more than the read itself (256 KiB per pull keeps pace with node:http + fs.createReadStream).
const READ_CHUNK = 256 * 1024;

/** Up to this length a range is read into a buffer of its length without asking the file's size first. */
const SMALL_RANGE = 1024 * 1024;

/**
 * A byte stream of `range` of an open file, by positional reads (see `handleStream`). The handle closes at the end or
 * on cancel.
 */
export function rangeStream(handle: _ReadHandle, range: ByteRange, onClose: () => void): ReadableStream<Uint8Array> {
  return handleStream(handle, onClose, { range, chunk: READ_CHUNK });
}

/** `range` of an open file as bytes (the handle stays open: the caller closes it). */
export async function rangeBytes(handle: _ReadHandle, range: ByteRange): Promise<Uint8Array> {
  // A small range of known length is read as far as the file goes: no fstat (serving small files reads them so).
  const size = range.length !== undefined && range.length <= SMALL_RANGE ? undefined : (await handle.stat()).size;
  const length = size === undefined ? range.length! : Math.max(0, Math.min(range.length ?? size, size - range.offset));
  const bytes = new Uint8Array(length);
  for (let filled = 0; filled < length; ) {
    const { bytesRead } = await handle.read(bytes, filled, length - filled, range.offset + filled);
    if (bytesRead === 0) return bytes.subarray(0, filled);
    filled += bytesRead;
  }
  return bytes;
}
