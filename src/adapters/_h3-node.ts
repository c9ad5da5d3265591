import { _bytesOf } from "../serve/_bytes.ts";
import { _writeToNode } from "../_node-write.ts";
import { _h3v1 } from "./_h3-request.ts";

/**
 * The part of an h3 1 event read here, typed structurally: the declarations must not need h3 1's types, which an app
 * on h3 2 does not have.
 */
export interface _H3v1Event {
  method: string;
  headers: Headers;
  node: { req: import("node:http").IncomingMessage; res: import("node:http").ServerResponse };
  web?: { request?: Request };
}

/** h3 1's own helpers, from the `h3` the app runs (loaded on first use: h3 2 has no such exports). */
interface _H3v1 {
  toWebRequest(event: _H3v1Event): Request;
  getRequestURL(event: _H3v1Event): URL;
}

const BODY_HIGH_WATER = 256 * 1024;
const SMALL_BODY = 64 * 1024;

/**
 * The event as a web `Request` whose body can be cancelled and is read with backpressure. h3 v1's `toWebRequest`
 * enqueues every chunk as it arrives (an upload faster than the disk fills memory) and keeps enqueueing after the
 * consumer cancelled, which throws inside a `data` listener: an uncaught exception that ends a Node process. Only
 * request bodies read straight from Node's `IncomingMessage` are replaced; anything else is h3's own request.
 */
export async function _toWebRequest(event: _H3v1Event): Promise<Request> {
  const { getRequestURL, toWebRequest } = (await _h3v1()) as _H3v1;
  const req = event.node?.req;
  const method = event.method.toUpperCase();
  const plain = req && !event.web?.request && !(event as { _requestBody?: unknown })._requestBody && !("body" in req) && !("rawBody" in req);
  if (!plain || (method !== "PUT" && method !== "POST")) return toWebRequest(event);
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const done = (settle: () => void): void => {
          req.off("data", onData);
          try {
            settle();
          } catch {
            // already cancelled
          }
        };
        const onData = (chunk: Uint8Array): void => {
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        };
        req.on("data", onData);
        req.once("end", () => done(() => controller.close()));
        req.once("error", (error) => done(() => controller.error(error)));
        req.once("close", () => done(() => req.readableEnded || controller.error(new Error("the client closed the request"))));
      },
      pull() {
        req.resume();
      },
      cancel() {
        // Drop what still arrives; the answer closes the connection.
        req.removeAllListeners("data");
        req.resume();
      },
    },
    { highWaterMark: BODY_HIGH_WATER, size: (chunk) => chunk.byteLength },
  );
  return new Request(getRequestURL(event), { method, headers: event.headers, body, duplex: "half" } as RequestInit);
}

/**
 * Send a web `Response` to Node's `ServerResponse` with backpressure: the next chunk is read only when the socket
 * took the last one, and a client that goes away cancels the body (closing the file or the S3 response). h3 v1's own
 * `sendStream` writes without waiting, so a 1 GiB file to a slow client would end up in memory. Anything that is not a
 * streamed body on a Node response is left to h3.
 */
export async function _sendWebResponse(event: _H3v1Event, response: Response): Promise<Response | undefined> {
  const res = event.node?.res;
  if (!res?.socket || !response.body || res.headersSent) return response;
  res.statusCode = response.status;
  for (const [name, value] of response.headers) if (name !== "set-cookie") res.setHeader(name, value);
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  (event as { _handled?: boolean })._handled = true;
  // A small body in one write: no per-chunk round trips (the file handler's small answers without reading them back).
  const bytes = _bytesOf(response);
  if (bytes) {
    res.end(bytes);
    return undefined;
  }
  if (Number(response.headers.get("content-length") ?? Number.POSITIVE_INFINITY) <= SMALL_BODY) {
    res.end(new Uint8Array(await response.arrayBuffer()));
    return undefined;
  }
  await _writeToNode(response.body, res);
  return undefined;
}
