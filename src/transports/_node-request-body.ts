import { blobStream, chunkBytes } from "../_streams.ts";
import type { _NodeRequest } from "./_node-types.ts";

/** A request body as the transport sends it: bytes in one write, or a stream written as it is read. */
export type _Body =
  | { kind: "none"; length: 0; type?: undefined }
  | { kind: "bytes"; bytes: Uint8Array; length: number; type?: string }
  | { kind: "stream"; stream: ReadableStream<Uint8Array>; length?: number; type?: string };

const TEXT = "text/plain;charset=UTF-8";
const FORM = "application/x-www-form-urlencoded;charset=UTF-8";

/**
 * The body of a `RequestInit`, with the length and Content-Type fetch would give it; `undefined` for a kind this
 * transport leaves to the platform fetch (FormData). Byte bodies are sent without a copy, so the caller must not change
 * them before the response arrives (the S3 driver never does).
 */
export function _requestBody(body: BodyInit | null | undefined): _Body | undefined {
  if (body === null || body === undefined) return { kind: "none", length: 0 };
  if (typeof body === "string") return _bytes(chunkBytes(body), TEXT);
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return _bytes(chunkBytes(body));
  if (body instanceof URLSearchParams) return _bytes(chunkBytes(body.toString()), FORM);
  if (body instanceof ReadableStream) return { kind: "stream", stream: body as ReadableStream<Uint8Array> };
  // blobStream, not blob.stream(): Node 20 reads a whole Blob ahead into memory there.
  if (body instanceof Blob) return { kind: "stream", stream: blobStream(body), length: body.size, type: body.type || undefined };
  return undefined;
}

/** Writes the body and ends the request; a stream is read only as fast as the socket takes it. */
export async function _sendBody(req: _NodeRequest, body: _Body): Promise<void> {
  if (body.kind === "none") return void req.end();
  if (body.kind === "bytes") return void req.end(body.bytes);
  const reader = body.stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!(value instanceof Uint8Array)) throw new TypeError("request body streams must yield Uint8Array chunks");
      if (!req.write(value)) await _drained(req);
    }
    req.end();
  } catch (error) {
    reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
}

// --- internal ---

function _bytes(bytes: Uint8Array, type?: string): _Body {
  return { kind: "bytes", bytes, length: bytes.byteLength, type };
}

/** Resolves when the socket wants more, rejects when the request is gone (so a dead request never stalls the read). */
function _drained(req: _NodeRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      req.off("drain", onDrain);
      req.off("close", onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => settle();
    const onClose = (): void => settle(new Error("the connection closed while the request body was being sent"));
    req.on("drain", onDrain);
    req.on("close", onClose);
  });
}
