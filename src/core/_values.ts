import type { Driver } from "unstorage";
import { rangeOf, sliceStream, withKnownLength, type ByteRange } from "../_streams.ts";
import { _error } from "../_errors.ts";

/** Drivers that take a `ReadableStream` in `setItemRaw` and answer `getItemRaw(key, { type: "stream" })`. */
function _acceptsStreams(driver: Driver): boolean {
  return (driver.flags as { streams?: boolean } | undefined)?.streams === true;
}

/** Drivers that read `getItemRaw(key, { range })` themselves (ours: fs positional reads, S3 ranged GET). */
function _readsRanges(driver: Driver): boolean {
  return (driver.flags as { ranges?: boolean } | undefined)?.ranges === true;
}

/** A raw value as bytes: the one buffering step, used only for drivers that cannot take a stream. */
async function _toBytes(value: unknown): Promise<Uint8Array> {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof Blob !== "undefined" && value instanceof Blob) return new Uint8Array(await value.arrayBuffer());
  if (value instanceof ReadableStream) return new Uint8Array(await new Response(value).arrayBuffer());
  if (typeof value === "string") return new TextEncoder().encode(value);
  throw _error(`unsupported raw value of type ${typeof value}`, { type: TypeError, retryable: false });
}

/** A raw value as a stream of bytes; values already in memory say their length (one exact PUT on S3). */
function _toStream(value: unknown): ReadableStream<Uint8Array> {
  if (value instanceof ReadableStream) return value as ReadableStream<Uint8Array>;
  if (typeof Blob !== "undefined" && value instanceof Blob) return withKnownLength(value.stream(), value.size);
  if (value instanceof Uint8Array) {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (value.byteLength > 0) controller.enqueue(value);
        controller.close();
      },
    });
    return withKnownLength(stream, value.byteLength);
  }
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(await _toBytes(value));
      controller.close();
    },
  });
}

/** A value a stream-capable driver can store as is: streams stay streams, the rest become bytes. */
function _forStreamingDriver(value: unknown): unknown {
  if (value instanceof ReadableStream || value instanceof Uint8Array) return value;
  if (typeof Blob !== "undefined" && value instanceof Blob) return value.stream();
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return value;
}

/**
 * The driver with one raw-value contract whatever it supports natively: `setItemRaw` takes `Uint8Array`,
 * `ArrayBuffer`, `Blob` and `ReadableStream`; `getItemRaw(key, { type: "stream" })` returns a stream and plain
 * `getItemRaw(key)` bytes. Streams pass through untouched when the driver can take them, so a transfer between
 * two streaming drivers never holds a whole value. `range: { offset, length }` in the read options is honoured for
 * every driver: passed on to those that read ranges themselves, cut out of the whole stream for the rest.
 */
export function _rawSafeDriver(driver: Driver): Driver {
  const streams = _acceptsStreams(driver);
  const ranges = _readsRanges(driver);
  const getRaw = async (key: string, opts: unknown): Promise<unknown> => {
    const wantsStream = (opts as { type?: string } | undefined)?.type === "stream";
    const value = driver.getItemRaw
      ? await driver.getItemRaw(key, (streams ? opts : { ...(opts as object), type: undefined }) as object)
      : await driver.getItem(key, opts as object);
    if (value === null || value === undefined) return null;
    if (wantsStream) return _toStream(driver.getItemRaw ? value : _fromBase64Fallback(value));
    if (!driver.getItemRaw) return _fromBase64Fallback(value);
    return value instanceof Uint8Array ? value : _toBytes(value);
  };
  return {
    ...driver,
    // getItem is the text API: drivers that keep raw values as given (memory) would hand back bytes.
    async getItem(key, opts) {
      const value = await driver.getItem(key, opts);
      return value instanceof Uint8Array || value instanceof ArrayBuffer ? new TextDecoder().decode(value) : value;
    },
    async getItemRaw(key, opts) {
      const range = rangeOf(driver.name ?? "driver", opts as { range?: unknown } | undefined);
      if (!range || ranges) return getRaw(key, opts);
      const { range: _, ...rest } = opts as { range: ByteRange; type?: string };
      const whole = (await getRaw(key, { ...rest, type: "stream" })) as ReadableStream<Uint8Array> | null;
      if (!whole) return null;
      const slice = sliceStream(whole, range);
      return rest.type === "stream" ? slice : _toBytes(slice);
    },
    async setItemRaw(key, value, opts) {
      if (driver.setItemRaw) {
        return driver.setItemRaw(key, streams ? _forStreamingDriver(value) : await _toBytes(value), opts);
      }
      if (!driver.setItem) throw _error(`driver "${driver.name}" is read-only`, { type: TypeError, retryable: false });
      return driver.setItem(key, `base64:${_base64(await _toBytes(value))}`, opts);
    },
  };
}

// --- internal ---

function _base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

// unstorage stores raw values of drivers without raw support as `base64:` strings.
function _fromBase64Fallback(value: unknown): Uint8Array {
  if (typeof value !== "string") return value as Uint8Array;
  if (!value.startsWith("base64:")) return new TextEncoder().encode(value);
  const binary = atob(value.slice(7));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
