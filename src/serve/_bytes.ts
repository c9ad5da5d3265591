// Small answers are bytes in memory: a Node adapter can write them straight to the socket instead of reading them back
// out of the Response's stream (for 4 KiB files that read-back was a tenth of the handler's time).

const _bodies = new WeakMap<Response, Uint8Array>();

/** A `Response` of `bytes`, remembered so that {@link _bytesOf} can hand them back without reading the body. */
export function _bytesResponse(bytes: Uint8Array, init: ResponseInit): Response {
  const response = new Response(bytes as Uint8Array<ArrayBuffer>, init);
  _bodies.set(response, bytes);
  return response;
}

/** The bytes of a response made by {@link _bytesResponse} whose body nobody has read yet. */
export function _bytesOf(response: Response): Uint8Array | undefined {
  return response.bodyUsed ? undefined : _bodies.get(response);
}
