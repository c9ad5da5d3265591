// A tiny assert for the runtime-agnostic suite: no node:assert, no test runner, so it runs anywhere.

/** Fail with `message` unless `condition` holds. */
export function ok(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/** Strict equality of primitives, or deep equality of JSON-serialisable values. */
export function equal(actual: unknown, expected: unknown, message: string): void {
  const same =
    Object.is(actual, expected) ||
    (typeof actual === "object" && typeof expected === "object" && _json(actual) === _json(expected));
  if (!same) throw new Error(`assertion failed: ${message}: expected ${_json(expected)}, got ${_json(actual)}`);
}

/** Byte-wise equality of two byte arrays. */
export function equalBytes(actual: Uint8Array | null | undefined, expected: Uint8Array, message: string): void {
  ok(actual instanceof Uint8Array, `${message}: expected bytes, got ${_describe(actual)}`);
  ok(actual.byteLength === expected.byteLength, `${message}: ${actual.byteLength} bytes instead of ${expected.byteLength}`);
  for (let i = 0; i < expected.byteLength; i++) {
    if (actual[i] !== expected[i]) throw new Error(`assertion failed: ${message}: first difference at byte ${i}`);
  }
}

/** The bytes of whatever an unstorage driver returned from `getItemRaw`: bytes, a Buffer, an ArrayBuffer or a stream. */
export async function toBytes(value: unknown): Promise<Uint8Array | null> {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (value instanceof ReadableStream) return new Uint8Array(await new Response(value).arrayBuffer());
  if (typeof Blob !== "undefined" && value instanceof Blob) return new Uint8Array(await value.arrayBuffer());
  throw new Error(`assertion failed: not a raw value: ${_describe(value)}`);
}

function _json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function _describe(value: unknown): string {
  return value === null ? "null" : typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
}
