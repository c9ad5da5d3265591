import { _error } from "../_errors.ts";
import type { FileHandlerOptions, FileOperation } from "./handler.ts";
import type { UrlOptions } from "../types.ts";

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
