// Answers made so that Node servers send them without reading them back out of the Response: the h3 1 bridge takes
// the bytes of small ones as they are (for 4 KiB files that read-back was a tenth of the handler's time), and srvx
// (h3 2, Nitro 3 on Node) asks any Response for `_toNodeResponse()` first, which here hands it the bytes, or a body
// whose `pipe(res)` writes with backpressure into pooled buffers. Elsewhere these are plain Responses.
import { _writeToNode, type _NodeResponseLike } from "../_node-write.ts";

const _bodies = new WeakMap<Response, Uint8Array>();

/** A `Response` of `bytes`, remembered so that {@link _bytesOf} can hand them back without reading the body. */
export function _bytesResponse(bytes: Uint8Array, init: ResponseInit): Response {
  const response = new Response(bytes as Uint8Array<ArrayBuffer>, init);
  _bodies.set(response, bytes);
  return _forSrvx(response, () => bytes);
}

/** A `Response` streaming `stream`, which srvx writes to Node through {@link _writeToNode}. */
export function _streamResponse(stream: ReadableStream<Uint8Array>, init: ResponseInit): Response {
  const response = new Response(stream, init);
  return _forSrvx(response, () => ({
    pipe: (res: _NodeResponseLike) => void _writeToNode(response.body!, res),
    abort: () => void response.body!.cancel().catch(() => {}),
  }));
}

/** The bytes of a response made by {@link _bytesResponse} whose body nobody has read yet. */
export function _bytesOf(response: Response): Uint8Array | undefined {
  return response.bodyUsed ? undefined : _bodies.get(response);
}

// --- internal ---

/** srvx's `_toNodeResponse()`: status, flat raw headers and a body; a body already read or locked goes as the stream. */
function _forSrvx(response: Response, body: () => unknown): Response {
  Object.defineProperty(response, "_toNodeResponse", {
    value: () => {
      const headers: string[] = [];
      for (const [name, value] of response.headers) headers.push(name, value);
      const untouched = !response.bodyUsed && !response.body?.locked;
      return { status: response.status, statusText: response.statusText, headers, body: untouched ? body() : response.body };
    },
  });
  return response;
}
