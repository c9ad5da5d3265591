import type { _NodeResponse } from "./_node-types.ts";

/** Statuses whose response has no body, whatever the headers say. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
/** Bytes a response body buffers before the socket is paused (backpressure reaches the server). */
const HIGH_WATER_MARK = 64 * 1024;

/**
 * A web `Response` over Node's `IncomingMessage`. The body is a byte stream (BYOB readers work) that pauses the socket
 * while the reader is behind; it errors with the signal's reason on abort and with `TypeError("terminated")` when the
 * connection ends early, as undici's does. `done` runs once the message is finished, either way.
 */
export function _responseOf(res: _NodeResponse, method: string, signal: AbortSignal | undefined, done: () => void): Response {
  const status = res.statusCode ?? 0;
  const init: ResponseInit = { status, statusText: res.statusMessage, headers: _headerPairs(res.rawHeaders) };
  if (method === "HEAD" || NULL_BODY.has(status)) {
    res.once("close", done).resume();
    return new Response(null, init);
  }
  let ended = false;
  const body = new ReadableStream({
    type: "bytes",
    start(controller: ReadableByteStreamController) {
      res.on("data", (chunk: Uint8Array) => {
        controller.enqueue(_owned(chunk));
        if ((controller.desiredSize ?? 0) <= 0) res.pause();
      });
      res.once("end", () => {
        ended = true;
        controller.close();
        // A BYOB reader waiting on a read gets its `done` from the close; one with a request pending needs a respond.
        controller.byobRequest?.respond(0);
      });
      res.once("close", () => {
        if (!ended) controller.error(signal?.aborted ? signal.reason : new TypeError("terminated", { cause: res.errored ?? undefined }));
        done();
      });
      res.on("error", () => {}); // reported through "close" above
    },
    pull() {
      res.resume();
    },
    cancel() {
      res.destroy();
    },
  }, { highWaterMark: HIGH_WATER_MARK });
  return new Response(body, init);
}

// --- internal ---

/**
 * The chunk as a view a byte stream may take over (enqueue detaches its buffer). Node's HTTP parser hands out each
 * body chunk in a buffer of its own, so it goes as it is; a chunk that shares its buffer (a slice) is copied first.
 */
function _owned(chunk: Uint8Array): Uint8Array<ArrayBuffer> {
  const { buffer, byteOffset, byteLength } = chunk;
  if (byteOffset === 0 && byteLength === buffer.byteLength && buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  return new Uint8Array(chunk);
}

/** `rawHeaders` as `[name, value]` pairs: repeated headers (Set-Cookie) stay separate, as `Headers` wants them. */
function _headerPairs(raw: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}
