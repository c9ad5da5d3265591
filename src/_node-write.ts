// Writing a web body to Node's ServerResponse with backpressure and without garbage per chunk: the one Node writer,
// used by the h3 1 bridge (adapters/_h3-node.ts) and by the file handler's answers, which srvx (h3 2, Nitro 3 on Node)
// asks for `_toNodeResponse()` whatever adapter mounted them. Typed structurally: this file imports nothing from Node,
// so the serving core stays edge-safe; only a Node server ever calls it.

/** The part of Node's `ServerResponse` written here. */
export interface _NodeResponseLike {
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  end(): unknown;
  destroy(error?: Error): unknown;
  once(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
  readonly writableFinished: boolean;
}

const POOL = 4;
const CHUNK = 256 * 1024;

/**
 * Write `body` to `res` and end it. The next chunk is read only once the socket took the last (a slow client holds
 * the reading, not memory), and a client that goes away cancels the body (closing the file or the S3 response). Byte
 * streams (files, S3 bodies) are read BYOB into four 256 KiB buffers that go round, each back in the pool once the
 * socket has written it: no garbage per chunk, at most 1 MiB held per response.
 */
export async function _writeToNode(body: ReadableStream<Uint8Array>, res: _NodeResponseLike): Promise<void> {
  const byob = _byobReader(body);
  const reader = byob ?? body.getReader();
  const pool: ArrayBuffer[] = [];
  let made = 0;
  let freed: (() => void) | undefined;
  let gone = false;
  const onClose = (): void => {
    freed?.();
    if (res.writableFinished) return;
    gone = true;
    reader.cancel().catch(() => {});
  };
  const nextBuffer = async (): Promise<ArrayBuffer> => {
    while (!gone && pool.length === 0 && made >= POOL) await new Promise<void>((resolve) => (freed = resolve));
    if (pool.length > 0) return pool.pop()!;
    made++;
    return new ArrayBuffer(CHUNK);
  };
  res.once("close", onClose);
  try {
    for (;;) {
      const { done, value } = byob
        ? await byob.read(new Uint8Array(await nextBuffer()))
        : await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
      if (done || gone) break;
      const written = byob ? (): void => (pool.push(value.buffer as ArrayBuffer), freed?.()) : undefined;
      if (!res.write(value, written)) await _drained(res);
    }
    if (!gone) res.end();
  } catch (error) {
    res.destroy(error as Error);
  } finally {
    res.off("close", onClose);
  }
}

// --- internal ---

function _drained(res: _NodeResponseLike): Promise<void> {
  return new Promise<void>((resolve) => {
    const next = (): void => {
      res.off("drain", next);
      res.off("close", next);
      resolve();
    };
    res.once("drain", next);
    res.once("close", next);
  });
}

function _byobReader(body: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  try {
    return body.getReader({ mode: "byob" });
  } catch {
    return undefined; // not a byte stream
  }
}
