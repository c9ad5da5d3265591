// GET and HEAD: from the tier holding the current generation, with validators, 304s and single ranges.
import type { Driver } from "unstorage";
import { createPartReader } from "../_parts.ts";
import { contentTypeOf } from "../_mime.ts";
import type { _Context } from "../core/context.ts";
import { _disposition, _etagOf, _ifRangeHolds, _noneMatch, _notModifiedSince, _parseRange, _time } from "./_http.ts";
import { _bytesResponse, _streamResponse } from "./_bytes.ts";
import { _locate, type _Located } from "./_locate.ts";
import { _remoteUrl } from "../core/url.ts";
import type { _ServeSettings } from "./_settings.ts";

/** Answer a GET or HEAD of `key`. */
export async function _serveRead(ctx: _Context, settings: _ServeSettings, request: Request, key: string): Promise<Response> {
  const record = await ctx.flags.get(ctx.flagKey(key));
  if (settings.redirect && record?.state === "remote") {
    // The current generation is on the remote: the browser fetches it there, the bytes never pass through here.
    const location = await _remoteUrl(ctx, key, record.generation, settings.redirect.url);
    return new Response(null, { status: settings.redirect.status, headers: { location, "cache-control": "no-store" } });
  }
  // A plain GET reads the value anyway: tiers that can (our fs driver) open it at once instead of a stat first.
  const plain = request.method === "GET" && !PRECONDITIONS.some((name) => request.headers.has(name));
  // A key can vanish from a tier between its metadata and its bytes (a transferAndDelete): look once more.
  for (let attempt = 0; attempt < 2; attempt++) {
    const located = await _locate(ctx, key, attempt === 0 ? record : undefined, plain);
    if (!located) return _text(404, "Not Found");
    const response = await _respond(settings, request, key, located);
    if (response) return response;
  }
  return _text(404, "Not Found");
}

// --- internal ---

/** Headers that make a GET conditional or partial: such requests ask the tier for metadata first. */
const PRECONDITIONS = ["range", "if-none-match", "if-modified-since", "if-range"];

async function _respond(settings: _ServeSettings, request: Request, key: string, located: _Located): Promise<Response | null> {
  const { driver, meta, record } = located;
  const opened = located.stream;
  let size = typeof meta.size === "number" ? meta.size : undefined;
  let bytes: Uint8Array | undefined;
  if (size === undefined && !(driver.flags as { streams?: boolean } | undefined)?.streams) {
    // A driver without sizes that cannot stream holds values whole anyway: read it once to know its length.
    bytes = (await driver.getItemRaw!(key, {})) as Uint8Array | null ?? undefined;
    if (!bytes) return null;
    size = bytes.byteLength;
  }
  const etag = _etagOf(record?.generation, meta);
  const lastModified = _time(meta.mtime);
  const headers = new Headers();
  if (etag) headers.set("etag", etag);
  if (lastModified !== undefined) headers.set("last-modified", new Date(lastModified).toUTCString());
  const cacheControl = settings.cacheControl(key);
  if (cacheControl) headers.set("cache-control", cacheControl);

  const ifNoneMatch = request.headers.get("if-none-match");
  const ifModifiedSince = request.headers.get("if-modified-since");
  if (ifNoneMatch !== null ? _noneMatch(ifNoneMatch, etag) : ifModifiedSince !== null && _notModifiedSince(ifModifiedSince, lastModified)) {
    return new Response(null, { status: 304, headers });
  }

  headers.set("content-type", settings.contentType(key) ?? (typeof meta.type === "string" ? meta.type : contentTypeOf(key.replaceAll(":", "/"), "application/octet-stream")));
  headers.set("x-content-type-options", "nosniff");
  const disposition = settings.contentDisposition(key);
  if (disposition) headers.set("content-disposition", disposition === "inline" || disposition === "attachment" ? _disposition(disposition, key) : disposition);
  if (size === undefined) {
    // Unknown length (a streaming driver without sizes): the whole value, no ranges.
    if (request.method === "HEAD") return new Response(null, { status: 200, headers });
    const stream = await _stream(driver, key);
    return stream ? _streamResponse(stream, { status: 200, headers }) : null;
  }
  headers.set("accept-ranges", "bytes");
  const range = request.method === "GET" && _ifRangeHolds(request.headers.get("if-range"), etag, lastModified)
    ? _parseRange(request.headers.get("range"), size)
    : { kind: "none" as const };
  if (range.kind === "unsatisfiable") {
    headers.set("content-range", `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }
  const partial = range.kind === "range";
  const offset = partial ? range.offset : 0;
  const length = partial ? range.length : size;
  if (partial) headers.set("content-range", `bytes ${offset}-${offset + length - 1}/${size}`);
  headers.set("content-length", String(length));
  const status = partial ? 206 : 200;
  if (request.method === "HEAD") return new Response(null, { status, headers });
  if (bytes) return _bytesResponse(bytes.subarray(offset, offset + length), { status, headers });
  if (opened) {
    // The tier opened the whole value (a plain GET): small ones are read from it, large ones read as ranges below.
    if (length <= SMALL) {
      const whole = await _readAll(opened, length);
      return whole ? _bytesResponse(whole, { status, headers }) : null;
    }
    await opened.cancel().catch(() => {});
  }
  if (length <= SMALL) {
    // Small answers are read in one go: a stream's machinery costs more than the bytes (many small files).
    // (as a range where the driver reads ranges: the size is known, so the fs driver skips its fstat)
    const ranged = partial || (driver.flags as { ranges?: boolean } | undefined)?.ranges === true;
    const whole = (await driver.getItemRaw!(key, ranged ? { range: { offset, length } } : {})) as Uint8Array | null;
    return whole && whole.byteLength === length ? _bytesResponse(whole, { status, headers }) : null;
  }
  // A range as a ranged read (fs positional, S3 ranged GET, else sliced); a whole value too where the driver reads
  // ranges itself (the fs driver then reads in larger pulls), else as a plain stream.
  const ranges = (driver.flags as { ranges?: boolean } | undefined)?.ranges === true;
  const stream = await _stream(driver, key, partial || ranges ? { offset, length } : undefined);
  return stream ? _streamResponse(stream, { status, headers }) : null;
}

/** All of a stream of exactly `length` bytes (the fs driver's one chunk, handed on uncopied), or `null` when it held other. */
async function _readAll(stream: ReadableStream<Uint8Array>, length: number): Promise<Uint8Array | null> {
  const reader = createPartReader(stream, { chunks: true });
  const whole = await reader.take(length);
  if (whole.byteLength === length && (await reader.atEnd())) return whole;
  reader.cancel(undefined);
  return null;
}

/** Answers up to this size are read as bytes rather than streamed. */
const SMALL = 64 * 1024;

async function _stream(driver: Driver, key: string, range?: { offset: number; length: number }): Promise<ReadableStream<Uint8Array> | null> {
  const value = await driver.getItemRaw!(key, range ? { type: "stream", range } : { type: "stream" });
  return (value as ReadableStream<Uint8Array> | null) ?? null;
}

export function _text(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(`${message}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}
