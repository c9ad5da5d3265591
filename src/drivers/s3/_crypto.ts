// SHA-256 and HMAC-SHA256 for request signing and payload hashes, and their hex and base64 forms: node:crypto where
// the runtime has it, Web Crypto elsewhere. Node's Web Crypto runs every call as a job on the thread pool (about 35
// µs of CPU each, whatever the size), which for a 16 KiB upload cost more than hashing it; node:crypto does the same
// work in 3–9 µs, and hashes a part without first copying it.
import { _builtin } from "../../_builtin.ts";

const encoder = new TextEncoder();

/** node:crypto's hash and HMAC, typed structurally so that no Node types leak into edge builds. */
interface _NodeHash {
  update(data: Uint8Array | string): _NodeHash;
  digest(): Uint8Array;
}
interface _NodeCrypto {
  createHash(algorithm: "sha256"): _NodeHash;
  createHmac(algorithm: "sha256", key: Uint8Array | string): _NodeHash;
}

// Looked up, never imported: the module stays free of Node built-ins for bundlers and edge runtimes.
const _found = _builtin<_NodeCrypto>("node:crypto");

/** Bytes hashed between two turns of the event loop, so that hashing a part never blocks it for long. */
const HASH_STEP = 256 * 1024;

// setImmediate where it exists (every runtime with node:crypto): setTimeout(0) would wait a millisecond per step.
const _defer: (callback: () => void) => unknown = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate ?? setTimeout;

/** The implementations in use; `_useWebCrypto(true)` forces Web Crypto (tests compare both). */
let _node: _NodeCrypto | undefined = _found;

/** Test hook: hash and sign with Web Crypto even where node:crypto exists. Returns whether node:crypto was found. */
export function _useWebCrypto(web: boolean): boolean {
  _node = web ? undefined : _found;
  return _found !== undefined;
}

/** SHA-256 of a body or a string; a large body is hashed in 256 KiB steps with the event loop running in between. */
export async function sha256(data: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  if (!_node) return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  const hash = _node.createHash("sha256");
  for (let offset = 0; ; ) {
    hash.update(bytes.subarray(offset, (offset += HASH_STEP)));
    if (offset >= bytes.byteLength) return hash.digest();
    await new Promise<void>((resolve) => _defer(resolve));
  }
}

/** HMAC-SHA256 of a string under a key. */
export async function hmacSha256(key: Uint8Array | string, data: string): Promise<Uint8Array> {
  if (_node) return _node.createHmac("sha256", key).update(data).digest();
  const raw = typeof key === "string" ? encoder.encode(key) : key;
  const cryptoKey = await crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(data)));
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

const HEX: string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
