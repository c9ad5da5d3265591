// The value kinds the driver matrix writes, each with what unstorage reads back for it. Text values go through
// `setItem` (unstorage stringifies them, and `getItem` parses the stored text with destr); raw values go through
// `setItemRaw` and read back as bytes. The expectations are unstorage's own semantics over its memory driver, so a
// drop-in driver must give the same: a JSON-looking string reads back parsed, `null` reads back as `null` but exists.
import { createHash } from "node:crypto";
import type { Storage } from "unstorage";

export interface TextCase {
  kind: "text";
  name: string;
  value: unknown;
  /** What `getItem` returns. */
  expected: unknown;
}

export interface RawCase {
  kind: "raw";
  name: string;
  /** A fresh value each call: streams and Blobs are consumed by a write. */
  value: () => unknown;
  /** The bytes `getItemRaw` returns. */
  bytes: Uint8Array;
}

export type ValueCase = TextCase | RawCase;

const LARGE = 1024 * 1024 + 3; // more than one chunk of every driver, not a multiple of any

function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

/** A stream of `bytes` in chunks of 64 KiB (none at all for no bytes). */
function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + 65_536));
      offset += 65_536;
    },
  });
}

// Not valid UTF-8 (0xff, a lone continuation byte, a truncated sequence), with NUL and CR/LF: text decoding would show.
const BINARY = new Uint8Array([0, 255, 128, 10, 13, 0xc3, 0x28, 0xe2, 0x82, 0, 1, 2, 0x7f, 0xfe]);
const BIG = pattern(LARGE);

export const VALUE_CASES: ValueCase[] = [
  { kind: "text", name: "string-empty", value: "", expected: "" },
  { kind: "text", name: "string", value: "works", expected: "works" },
  { kind: "text", name: "string-multiline", value: 'line 1\nline "2"\t\\', expected: 'line 1\nline "2"\t\\' },
  { kind: "text", name: "string-unicode", value: "unicode ✓ 日本語 🎉 é", expected: "unicode ✓ 日本語 🎉 é" },
  // unstorage stores strings as they are and parses on read: JSON-looking text comes back parsed, whatever the driver.
  { kind: "text", name: "string-json-looking", value: '{"json":"looking"}', expected: { json: "looking" } },
  // Spaced JSON: a transfer that parsed and re-serialised the text would store `{"spaced":[1,2]}` on the remote.
  { kind: "text", name: "string-json-spaced", value: '{ "spaced" : [1, 2] }', expected: { spaced: [1, 2] } },
  { kind: "text", name: "number-zero", value: 0, expected: 0 },
  { kind: "text", name: "number-float", value: 0.1 + 0.2, expected: 0.30000000000000004 },
  { kind: "text", name: "number-negative", value: -1.5e-7, expected: -1.5e-7 },
  { kind: "text", name: "boolean-true", value: true, expected: true },
  { kind: "text", name: "boolean-false", value: false, expected: false },
  { kind: "text", name: "null", value: null, expected: null },
  { kind: "text", name: "object", value: { json: "works", nested: { n: 1, list: [true, null] } }, expected: { json: "works", nested: { n: 1, list: [true, null] } } },
  { kind: "text", name: "array", value: [1, "two", { three: 3 }, null], expected: [1, "two", { three: 3 }, null] },
  { kind: "text", name: "toJSON-string", value: { toJSON: () => "SERIALIZED" }, expected: "SERIALIZED" },
  { kind: "text", name: "toJSON-object", value: { toJSON: () => ({ serializedObj: "works" }) }, expected: { serializedObj: "works" } },
  { kind: "raw", name: "bytes-empty", value: () => new Uint8Array(0), bytes: new Uint8Array(0) },
  { kind: "raw", name: "bytes-binary", value: () => BINARY.slice(), bytes: BINARY },
  { kind: "raw", name: "arraybuffer", value: () => BINARY.slice().buffer, bytes: BINARY },
  { kind: "raw", name: "blob", value: () => new Blob([BINARY]), bytes: BINARY },
  { kind: "raw", name: "stream-empty", value: () => chunked(new Uint8Array(0)), bytes: new Uint8Array(0) },
  { kind: "raw", name: "stream-large", value: () => chunked(BIG), bytes: BIG },
];

export async function writeCase(storage: Storage, key: string, c: ValueCase): Promise<void> {
  if (c.kind === "text") await storage.setItem(key, c.value as never);
  else await storage.setItemRaw(key, c.value());
}

/** Bytes described for an assertion message: short ones in full, long ones by length and hash. */
export function describeBytes(value: unknown): string {
  if (!(value instanceof Uint8Array)) return `not bytes: ${value === null ? "null" : typeof value} ${String(value).slice(0, 40)}`;
  if (value.length <= 32) return `${value.length} bytes [${[...value].join(",")}]`;
  return `${value.length} bytes sha256 ${createHash("sha256").update(value).digest("hex")}`;
}

/** A stream read to its end, as one Uint8Array. */
export async function readStream(stream: unknown): Promise<Uint8Array> {
  if (!(stream instanceof ReadableStream)) throw new TypeError(`expected a ReadableStream, got ${typeof stream}`);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
