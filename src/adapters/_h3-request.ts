import { getRequestURL, toWebRequest, type H3Event } from "h3";

const BODY_HIGH_WATER = 256 * 1024;

/**
 * The event as a web `Request` whose body can be cancelled and is read with backpressure. h3 v1's `toWebRequest`
 * enqueues every chunk as it arrives (an upload faster than the disk fills memory) and keeps enqueueing after the
 * consumer cancelled, which throws inside a `data` listener: an uncaught exception that ends a Node process. Only
 * request bodies read straight from Node's `IncomingMessage` are replaced; anything else is h3's own request.
 */
export function _toWebRequest(event: H3Event): Request {
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
