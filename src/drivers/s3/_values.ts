// Values and their metadata on the way to S3: what a raw value is, its content type, its hashes.

/** A value of known length is sent as bytes or a Blob; anything else is read as a stream. */
export type UploadSource =
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "blob"; blob: Blob }
  | { kind: "stream"; stream: ReadableStream<unknown> };

/** Accepts what `setItemRaw` is documented to take; `undefined` for anything else. */
export function toUploadSource(value: unknown): UploadSource | undefined {
  if (typeof value === "string") return { kind: "bytes", bytes: new TextEncoder().encode(value) };
  if (value instanceof Uint8Array) return { kind: "bytes", bytes: value };
  if (value instanceof ArrayBuffer) return { kind: "bytes", bytes: new Uint8Array(value) };
  if (ArrayBuffer.isView(value)) {
    return { kind: "bytes", bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
  }
  if (typeof Blob !== "undefined" && value instanceof Blob) return { kind: "blob", blob: value };
  if (value instanceof ReadableStream) return { kind: "stream", stream: value };
  return undefined;
}

export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (let i = 0; i < bytes.length; i++) hex += HEX[bytes[i]!];
  return hex;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

// --- internal ---

const HEX: string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
