/**
 * Verification of the `Upstash-Signature` JWT (HS256) with Web Crypto, before any body byte is read: header, HMAC
 * over `header.payload` with the current or the next signing key, `iss`, `sub`, `exp`/`nbf`. What it returns is the
 * `body` claim, which the caller compares with the SHA-256 of the raw body once it has read it.
 *
 * Written here rather than taken from `jose` or the SDK's `Receiver`: HS256 with two fixed keys is a few lines of
 * Web Crypto, the edge entries stay free of another dependency, and the Receiver can only verify once the whole body
 * is in hand, which is what an unauthenticated request must not get.
 */

/** Largest `Upstash-Signature` accepted; QStash's tokens are about 400 characters. */
const MAX_TOKEN_LENGTH = 4096;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** What a token must say to be accepted. */
export interface _TokenExpectations {
  /** Accepted `sub` values; `undefined` accepts any (no `url` configured). */
  subjects?: string[];
  /** Seconds of clock skew tolerated on `exp` and `nbf`. */
  clockTolerance: number;
}

/** HMAC keys of the two signing keys, imported once on first use (Workers forbid crypto at module scope). */
export function _signingKeys(current: string, next: string): () => Promise<CryptoKey[]> {
  let keys: Promise<CryptoKey[]> | undefined;
  const importKey = (secret: string): Promise<CryptoKey> =>
    crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  return () => (keys ??= Promise.all([importKey(current), importKey(next)]));
}

/** The token's `body` claim (base64url SHA-256 of the raw body), or a thrown `Error` saying why it is refused. */
export async function _verifyToken(token: string, keys: CryptoKey[], expect: _TokenExpectations): Promise<string> {
  if (token.length > MAX_TOKEN_LENGTH) throw new Error(`token longer than ${MAX_TOKEN_LENGTH} characters`);
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) throw new Error("not a JWT");
  const [header, payload, signature] = parts as [string, string, string];
  const alg = (_json(header, "header") as { alg?: unknown }).alg;
  if (alg !== "HS256") throw new Error(`algorithm ${JSON.stringify(alg)} is not HS256`);
  const signed = new TextEncoder().encode(`${header}.${payload}`);
  let mac: Uint8Array<ArrayBuffer>;
  try {
    mac = _base64urlBytes(signature);
  } catch {
    throw new Error("not a JWT");
  }
  let valid = false;
  // crypto.subtle.verify compares in constant time.
  for (const key of keys) valid ||= await crypto.subtle.verify("HMAC", key, mac, signed);
  if (!valid) throw new Error("signature does not match the current or next signing key");
  const claims = _json(payload, "payload") as Record<string, unknown>;
  if (claims.iss !== "Upstash") throw new Error(`issuer ${JSON.stringify(claims.iss)} is not "Upstash"`);
  if (expect.subjects && !expect.subjects.includes(claims.sub as string)) {
    throw new Error(`subject ${JSON.stringify(claims.sub)} is not this webhook's url ${JSON.stringify(expect.subjects[0])}`);
  }
  const now = Date.now() / 1000;
  if (typeof claims.exp !== "number" || now > claims.exp + expect.clockTolerance) throw new Error("token expired");
  if (claims.nbf !== undefined && (typeof claims.nbf !== "number" || now < claims.nbf - expect.clockTolerance)) {
    throw new Error("token not yet valid (nbf)");
  }
  if (typeof claims.body !== "string" || claims.body === "") throw new Error("token has no body claim");
  return claims.body;
}

/** Whether `bytes` hash to a `body` claim (padding ignored, as the SDK's Receiver does). */
export async function _bodyMatches(bytes: Uint8Array, claim: string): Promise<boolean> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return _base64url(digest) === claim.replace(/=+$/, "");
}

// --- internal ---

function _json(part: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(_base64urlBytes(part)));
  } catch {
    throw new Error(`malformed JWT ${what}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(`malformed JWT ${what}`);
  return value;
}

function _base64urlBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function _base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
