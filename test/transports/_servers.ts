// Helpers of the transport tests.
import type { Server } from "node:http";

/** Starts `server` on a free loopback port; resolves its `http://127.0.0.1:port` origin. */
export function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`));
  });
}

/** Reads a body to its end; resolves the byte count. */
export async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<number> {
  let total = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) total += r.value.byteLength;
  return total;
}

/** `size` bytes made in 64 KiB chunks only when pulled, with a count of what was pulled so far. */
export function slowSource(size: number): { stream: ReadableStream<Uint8Array>; pulled(): number } {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= size) return controller.close();
      const chunk = new Uint8Array(Math.min(64 * 1024, size - pulled)).fill(1);
      pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  return { stream, pulled: () => pulled };
}

/** The error `promise` rejects with; fails the test when it resolves instead. */
export async function rejection(promise: Promise<unknown>): Promise<TypeError & { cause: Error & { code?: string } }> {
  const outcome = await promise.then(() => undefined, (error: unknown) => ({ error }));
  if (!outcome) throw new Error("expected a rejection, but the promise resolved");
  return outcome.error as TypeError & { cause: Error & { code?: string } };
}
