/** Why a body was not read to its end. */
export type _BodyRefusal = "too-large" | "timeout" | "aborted" | "unreadable";

/**
 * The raw body bytes, read under a size and a time limit. A declared `Content-Length` over `limit` is refused
 * without reading; otherwise reading stops as soon as `limit + 1` bytes arrived or `timeoutMs` passed, or when the
 * client went away. Never throws and leaves no rejected promise behind.
 *
 * The stream is never cancelled: it belongs to the server or framework that made the `Request`, and cancelling it
 * under them is what crashed h3 1 (its stream controller throws `ERR_INVALID_STATE` when the next chunk or the end
 * of the request arrives after our cancel). We stop reading and answer with `Connection: close` instead, so the
 * server ends the connection, and with it the body, once the response is sent.
 */
export async function _readBody(
  request: Request,
  limit: number,
  timeoutMs: number,
): Promise<{ bytes: Uint8Array } | { refused: _BodyRefusal }> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) return { refused: "too-large" };
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    // Inside the try: some servers make the body lazily on first access (srvx under Nitro 3 builds a Request over
    // Node's request then), and that throws when the connection is already gone.
    const body = request.body;
    if (!body) return { bytes: new Uint8Array(0) };
    reader = body.getReader();
  } catch {
    // Locked or already read: a middleware consumed it before us (or the server could not make it any more).
    return { refused: "unreadable" };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(resolve, timeoutMs, "timeout")));
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const read = reader.read();
      // A read left pending by the timeout may still reject when the connection closes: nobody waits for it.
      read.catch(() => {});
      const result = await Promise.race([read, timeout]);
      if (result === "timeout") return { refused: "timeout" };
      if (result.done) break;
      total += result.value.byteLength;
      if (total > limit) return { refused: "too-large" };
      chunks.push(result.value);
    }
  } catch {
    return { refused: "aborted" };
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes };
}
