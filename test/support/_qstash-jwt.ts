import { createHash, createHmac, randomBytes } from "node:crypto";

/** What {@link signQStashJwt} signs; `claims` overrides (or, with `undefined`, removes) single claims for forged tokens. */
export interface SignQStashJwtOptions {
  /** The signing key; its UTF-8 bytes are the HMAC key, exactly like QStash and the Receiver use it. */
  key: string;
  /** `sub`: the URL the request is sent to. */
  url: string;
  /** The raw body the `body` claim hashes. */
  body: string | Uint8Array;
  /** Unix seconds used as `iat` (and for `exp = iat + 300`). Default: now. */
  now?: number;
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
}

/** base64url(SHA-256(raw body bytes)), the `body` claim of an `Upstash-Signature`. */
export function qstashBodyHash(body: string | Uint8Array): string {
  return createHash("sha256").update(body).digest("base64url");
}

/**
 * An `Upstash-Signature` JWT as QStash makes it (wire-protocols A4): HS256 over the UTF-8 bytes of the signing key,
 * with all seven claims; `nbf` is 0 like production since 2024.
 */
export function signQStashJwt(options: SignQStashJwtOptions): string {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: "Upstash",
    sub: options.url,
    exp: now + 300,
    nbf: 0,
    iat: now,
    jti: `jwt_${randomBytes(12).toString("hex")}`,
    body: qstashBodyHash(options.body),
  };
  for (const [name, value] of Object.entries(options.claims ?? {})) {
    if (value === undefined) delete payload[name];
    else payload[name] = value;
  }
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  const signingInput = `${encode(options.header ?? { alg: "HS256", typ: "JWT" })}.${encode(payload)}`;
  const signature = createHmac("sha256", Buffer.from(options.key, "utf8")).update(signingInput).digest("base64url");
  return `${signingInput}.${signature}`;
}

/** A random signing key in QStash's shape (`sig_…`). */
export function randomSigningKey(): string {
  return `sig_${randomBytes(18).toString("base64url")}`;
}
