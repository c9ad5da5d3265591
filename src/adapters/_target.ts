import { createTransferHandler, type TransferHandlerOptions } from "../queues/qstash.ts";
import type { QueuedStorageControls } from "../types.ts";
import { createFileHandler, type FileHandler, type FileHandlerOptions } from "../serve/handler.ts";

/** What a framework adapter wraps: a queued storage (or its controls), or a ready `createTransferHandler(...)`. */
export type TransferTarget = Pick<QueuedStorageControls, "handle" | "fail"> | ((request: Request) => Promise<Response>);

/**
 * The web handler of a target; options apply when the target is a storage. Every adapter (h3 1 and 2, Nitro, Hono)
 * stays a conversion around it and keeps three things, which make hostile requests harmless on every server: the
 * `Request` reaches the handler with its body unread, the handler's `Response` goes out unchanged (its
 * `Connection: close` on refusals is what stops the server reading an unwanted body), and nothing cancels or reads
 * the request stream around it (h3 1's stream throws in its own event listener when cancelled: issue 11).
 */
export function _webHandler(target: TransferTarget, options?: TransferHandlerOptions): (request: Request) => Promise<Response> {
  return typeof target === "function" ? target : createTransferHandler(target, options);
}

/** What a file-serving adapter wraps: a queued storage (or its controls), or a ready `createFileHandler(...)`. */
export type FileTarget = Pick<QueuedStorageControls, "url"> | FileHandler;

/** The web handler of a file target; options apply when the target is a storage. */
export function _fileHandler(target: FileTarget, options?: FileHandlerOptions): FileHandler {
  return typeof target === "function" ? target : createFileHandler(target, options);
}
