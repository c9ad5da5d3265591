// PUT (and POST of a raw body): stream the request body into the queued storage's write path, bounded and timed.
import { contentTypeOf } from "../_mime.ts";
import type { _Access } from "../core/_access.ts";
import { _toStatus } from "../flags/_transitions.ts";
import { _text } from "./_read.ts";
import type { _ServeSettings } from "./_settings.ts";

type _Upload = NonNullable<_ServeSettings["upload"]>;

/** Why an upload body was cut off. */
class _BodyRefused extends Error {
  constructor(readonly status: 408 | 413, message: string) {
    super(message);
  }
}

/** Answer a PUT/POST of `key`: 201 with the transfer status once the bytes are stored locally. */
export async function _serveUpload(
  access: _Access,
  upload: _Upload,
  request: Request,
  key: string,
  waitUntil?: (promise: Promise<unknown>) => void,
): Promise<Response> {
  const declared = request.headers.get("content-length");
  // Answers before the body was read to its end close the connection: what is still on the way is no next request.
  const unread = { connection: "close" };
  if (declared !== null && Number(declared) > upload.maxBytes) return _text(413, `Payload Too Large: at most ${upload.maxBytes} bytes`, unread);
  if (upload.types) {
    // Both the declared type and the type the key will be served with (by its extension) must be allowed, or an
    // "image/png" upload named x.html would be served back as HTML.
    const declaredType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    const servedType = contentTypeOf(key.replaceAll(":", "/"), "application/octet-stream").split(";")[0]!;
    const allowed = (type: string): boolean => upload.types!.some((t) => t === type || (t.endsWith("/*") && type.startsWith(t.slice(0, -1))));
    if (!declaredType || !allowed(declaredType) || !allowed(servedType)) {
      return _text(415, `Unsupported Media Type: allowed are ${upload.types.join(", ")} (got "${declaredType}" for a "${servedType}" key)`, unread);
    }
  }
  const body = _bounded(request.body ?? new Blob([]).stream(), upload);
  try {
    await access.driver.setItemRaw!(key, body.stream, waitUntil ? { waitUntil } : {});
  } catch (error) {
    const refused = body.refused();
    if (refused) return _text(refused.status, refused.message, unread);
    if (body.failed()) return _text(400, "Bad Request: the upload body ended abnormally", unread);
    throw error;
  }
  const status = _toStatus(await access.ctx.flags.get(access.ctx.flagKey(key)));
  return new Response(JSON.stringify({ key, ...status }), {
    status: 201,
    headers: { "content-type": "application/json", "location": new URL(request.url).pathname },
  });
}

// --- internal ---

/**
 * The body as it is pulled, failing past `maxBytes` and when no chunk arrives for `idleTimeoutMs`, so neither an
 * endless nor a stalled body holds the write (and its temp file) forever. The source is cancelled either way.
 */
function _bounded(source: ReadableStream<Uint8Array>, upload: _Upload): {
  stream: ReadableStream<Uint8Array>;
  refused(): _BodyRefused | undefined;
  failed(): boolean;
} {
  const reader = source.getReader();
  let received = 0;
  let refused: _BodyRefused | undefined;
  let failed = false;
  const refuse = (error: _BodyRefused): never => {
    refused = error;
    reader.cancel(error).catch(() => {});
    throw error;
  };
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new _BodyRefused(408, `Request Timeout: no body bytes for ${upload.idleTimeoutMs} ms`)), upload.idleTimeoutMs);
      });
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await Promise.race([reader.read(), idle]);
      } catch (error) {
        if (error instanceof _BodyRefused) refuse(error);
        failed = true;
        throw error;
      } finally {
        clearTimeout(timer);
      }
      if (result.done) return controller.close();
      received += result.value.byteLength;
      if (received > upload.maxBytes) refuse(new _BodyRefused(413, `Payload Too Large: at most ${upload.maxBytes} bytes`));
      controller.enqueue(result.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { stream, refused: () => refused, failed: () => failed };
}
