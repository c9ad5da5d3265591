import { _error } from "../_errors.ts";
import { _accessOf } from "../core/_access.ts";
import type { QueuedStorageControls, UrlOptions } from "../types.ts";
import { _keyFromPath } from "./_key.ts";
import { _serveRead, _text } from "./_read.ts";
import { _serveSettings } from "./_settings.ts";
import { _serveUpload } from "./_upload.ts";

/** What a request does to a key, for `authorize`. */
export type FileOperation = "read" | "write";

/** Options of {@link createFileHandler}. */
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

/**
 * The read side of an uploads app: `GET` and `HEAD` of keys under `route`, streamed from the tier that holds the
 * current generation, with a strong ETag per generation (304 on If-None-Match / If-Modified-Since), single byte
 * ranges (206, 416; read as ranges where the driver can), optional redirects to the remote URL once a key is
 * `remote`, and optional uploads on `PUT`/`POST`. Web-standard: mount it in any framework (see the h3, Hono and Nitro
 * adapters) or call it with a `Request`.
 *
 * @example
 * const storage = createQueuedStorage({ local, remote, localUrl: "/files/" });
 * const files = createFileHandler(storage, { route: "/files/", redirect: true });
 * Deno.serve((request) => files(request));
 */
export function createFileHandler(
  storage: Pick<QueuedStorageControls, "url">,
  options: FileHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const access = _accessOf(storage);
  if (!access) {
    throw _error("createFileHandler(storage): expected a queued storage (createQueuedStorage(...) or queuedDriver(...).getInstance())");
  }
  const settings = _serveSettings(options);
  const allow = settings.upload ? "GET, HEAD, PUT, POST" : "GET, HEAD";
  return async (request) => {
    try {
      const method = request.method.toUpperCase();
      const writing = method === "PUT" || method === "POST";
      if (!(method === "GET" || method === "HEAD" || (writing && settings.upload))) {
        return _text(405, "Method Not Allowed", { allow });
      }
      const found = _keyFromPath(new URL(request.url).pathname, settings.route);
      if (!found) return _text(404, "Not Found");
      if ("error" in found) return _text(400, `Bad Request: ${found.error}`);
      const verdict = await settings.authorize(request, found.key, writing ? "write" : "read");
      if (verdict instanceof Response) return verdict;
      if (verdict !== true) return _text(403, "Forbidden");
      if (writing) return await _serveUpload(access, settings.upload!, request, found.key);
      return await _serveRead(access.ctx, settings, request, found.key);
    } catch (error) {
      settings.onError(error, request);
      return _text(500, "Internal Server Error");
    }
  };
}
