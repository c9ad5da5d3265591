// QStash's `Upstash-Signature` made with Web Crypto only, so every runtime signs its own deliveries.

const encoder = new TextEncoder();

/** base64url of bytes, without padding. */
export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A random signing key in QStash's shape (`sig_…`). */
export function randomSigningKey(): string {
  return `sig_${base64url(crypto.getRandomValues(new Uint8Array(18)))}`;
}

/**
 * An HS256 JWT over the UTF-8 bytes of `key`, with QStash's seven claims: `sub` is the URL the request goes to and
 * `body` the base64url SHA-256 of the exact raw body.
 */
export async function signQStash(key: string, url: string, body: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(body)));
  const jti = `jwt_${base64url(crypto.getRandomValues(new Uint8Array(12)))}`;
  const payload = { iss: "Upstash", sub: url, exp: now + 300, nbf: 0, iat: now, jti, body: base64url(hash) };
  const encode = (value: unknown): string => base64url(encoder.encode(JSON.stringify(value)));
  const input = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(payload)}`;
  const hmac = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", hmac, encoder.encode(input)));
  return `${input}.${base64url(signature)}`;
}
