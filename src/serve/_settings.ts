import { _error } from "../_errors.ts";
import type { UrlOptions } from "../types.ts";

/** What a request does to a key, for `authorize`. */
export type FileOperation = "read" | "write";

/** Options of `createFileHandler`. */
export interface FileHandlerOptions {
  /** Path prefix the handler answers under; the rest of the path is the key (`/` → `:`). Default `"/"`. @example "/files/" */
  route?: string;
  /**
   * Cache-Control of answers: fixed, per key, or `false` for none. Default `"no-cache"`: browsers keep the bytes but
   * revalidate each use (a cheap 304 while the ETag holds), since a key's content changes with every write.
   * @example "public, max-age=31536000, immutable" (for keys that are never rewritten)
   */
  cacheControl?: string | false | ((key: string) => string | undefined);
  /** `"inline"` or `"attachment"` (with the key's last segment as file name), a full header value per key, or none (default). */
  contentDisposition?: "inline" | "attachment" | ((key: string) => string | undefined);
  /** Content-Type per key. Default: the tier's stored type (S3), else by extension, else application/octet-stream. */
  contentType?: (key: string) => string | undefined;
  /**
   * Once a key is `remote`, answer with a redirect to the remote URL (`url(key)`'s remote URL: S3 presigned or public,
   * or `remoteUrl`) instead of streaming it, so large files never pass through this function. `true`: 302. Default `false`.
   * @example { status: 307, expiresIn: 300 }
   */
  redirect?: boolean | ({ status?: 301 | 302 | 303 | 307 | 308 } & UrlOptions);
  /**
   * Accept `PUT` (and `POST` of a raw body) of a key: the body streams into `setItemRaw` and the answer is 201 with the
   * transfer status as JSON. Needs `authorize`. Default `false`.
   * @example { maxBytes: 50 * 1024 * 1024, types: ["image/*", "video/mp4"] }
   */
  upload?: boolean | {
    /** Largest body in bytes; longer bodies are cut off with 413. Default 100 MiB. */
    maxBytes?: number;
    /** Allowed media types (`"image/*"` wildcards); both the request's Content-Type and the key's extension must match. Default: any. */
    types?: string[];
    /** A body that sends nothing for this long is cut off with 408. Default 30,000 ms. */
    idleTimeoutMs?: number;
  };
  /**
   * Decide per request: `true` allows, `false` answers 403, a `Response` is sent as is (e.g. a 401 with a
   * WWW-Authenticate). Called for reads too when given. Required with `upload`.
   * @example (request, key, op) => op === "read" || request.headers.get("authorization") === `Bearer ${TOKEN}`
   */
  authorize?: (request: Request, key: string, operation: FileOperation) => boolean | Response | Promise<boolean | Response>;
  /** Called with unexpected errors (answered 500 without details). Default: `console.error`. */
  onError?: (error: unknown, request: Request) => void;
}

/** The handler's options with defaults applied, checked once at creation. */
export interface _ServeSettings {
  /** The route prefix, with a leading and a trailing slash. */
  route: string;
  cacheControl(key: string): string | undefined;
  contentDisposition(key: string): string | undefined;
  contentType(key: string): string | undefined;
  redirect?: { status: number; url: UrlOptions };
  upload?: { maxBytes: number; types?: string[]; idleTimeoutMs: number };
  authorize(request: Request, key: string, operation: FileOperation): Promise<boolean | Response>;
  onError(error: unknown, request: Request): void;
}

const MiB = 1024 * 1024;

export function _serveSettings(options: FileHandlerOptions): _ServeSettings {
  const fail = (message: string): Error => _error(`createFileHandler: ${message}`);
  const route = `/${(options.route ?? "/").replace(/^\/+|\/+$/g, "")}/`.replace(/^\/\/$/, "/");
  const perKey = <T>(value: T | ((key: string) => T | undefined) | undefined): ((key: string) => T | undefined) =>
    typeof value === "function" ? (value as (key: string) => T | undefined) : () => value;
  const cacheControl = options.cacheControl === false ? undefined : (options.cacheControl ?? "no-cache");
  let redirect: _ServeSettings["redirect"];
  if (options.redirect) {
    const { status = 302, ...url } = options.redirect === true ? {} : options.redirect;
    if (![301, 302, 303, 307, 308].includes(status)) throw fail(`option \`redirect.status\` must be 301, 302, 303, 307 or 308, got ${status}`);
    redirect = { status, url };
  }
  let upload: _ServeSettings["upload"];
  if (options.upload) {
    const given = options.upload === true ? {} : options.upload;
    const maxBytes = given.maxBytes ?? 100 * MiB;
    if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) throw fail(`option \`upload.maxBytes\` must be a whole number of bytes, got ${maxBytes}`);
    const idleTimeoutMs = given.idleTimeoutMs ?? 30_000;
    if (!(idleTimeoutMs > 0)) throw fail(`option \`upload.idleTimeoutMs\` must be positive, got ${idleTimeoutMs}`);
    if (given.types !== undefined && (!Array.isArray(given.types) || given.types.some((t) => typeof t !== "string" || !/^[\w.+-]+\/([\w.+-]+|\*)$/.test(t)))) {
      throw fail(`option \`upload.types\` must be a list of media types such as "image/*" or "video/mp4", got ${JSON.stringify(given.types)}`);
    }
    // Writes change what every visitor gets: refuse to open them to anyone by accident.
    if (!options.authorize) throw fail("option `upload` needs `authorize(request, key, operation)`; return true to allow every write");
    upload = { maxBytes, idleTimeoutMs, types: given.types?.map((t) => t.toLowerCase()) };
  }
  const authorize = options.authorize;
  return {
    route,
    cacheControl: perKey(cacheControl),
    contentDisposition: perKey(options.contentDisposition),
    contentType: perKey(options.contentType),
    redirect,
    upload,
    authorize: async (request, key, operation) => (authorize ? authorize(request, key, operation) : true),
    onError: options.onError ?? ((error) => console.error("[queued-storage] createFileHandler:", error)),
  };
}
