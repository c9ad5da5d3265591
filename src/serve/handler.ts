import { _error } from "../_errors.ts";
import { _accessOf } from "../core/_access.ts";
import type { QueuedStorageControls } from "../types.ts";
import { _keyFromPath } from "./_key.ts";
import { _serveRead, _text } from "./_read.ts";
import { _serveSettings, type FileHandlerOptions } from "./_settings.ts";
import { _serveUpload } from "./_upload.ts";

export type { FileHandlerOptions, FileOperation } from "./_settings.ts";

/** What the runtime hands a file handler besides the request (the adapters fill it in). */
export interface FileRequestContext {
  /**
   * Keeps the instance alive for an upload's background publish (`acknowledge: "stored"`): Workers' and Netlify's
   * `ctx.waitUntil`, h3's `event.waitUntil`.
   * @example files(request, { waitUntil: (promise) => ctx.waitUntil(promise) })
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** A file handler: a `Request` in, a `Response` out. */
export type FileHandler = (request: Request, context?: FileRequestContext) => Promise<Response>;

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
): FileHandler {
  const access = _accessOf(storage);
  if (!access) {
    throw _error("createFileHandler(storage): expected a queued storage (createQueuedStorage(...) or queuedDriver(...).getInstance())");
  }
  const settings = _serveSettings(options);
  const allow = settings.upload ? "GET, HEAD, PUT, POST" : "GET, HEAD";
  return async (request, context) => {
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
      if (writing) return await _serveUpload(access, settings.upload!, request, found.key, context?.waitUntil);
      return await _serveRead(access.ctx, settings, request, found.key);
    } catch (error) {
      settings.onError(error, request);
      return _text(500, "Internal Server Error");
    }
  };
}
