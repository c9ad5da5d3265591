import { createTransferHandler, type TransferHandlerOptions } from "../queues/qstash.ts";
import type { QueuedStorageControls } from "../types.ts";
import { createFileHandler, type FileHandlerOptions } from "../serve/handler.ts";

/** What a framework adapter wraps: a queued storage (or its controls), or a ready `createTransferHandler(...)`. */
export type TransferTarget = Pick<QueuedStorageControls, "handle" | "fail"> | ((request: Request) => Promise<Response>);

/** The web handler of a target; options apply when the target is a storage. */
export function _webHandler(target: TransferTarget, options?: TransferHandlerOptions): (request: Request) => Promise<Response> {
  return typeof target === "function" ? target : createTransferHandler(target, options);
}

/** What a file-serving adapter wraps: a queued storage (or its controls), or a ready `createFileHandler(...)`. */
export type FileTarget = Pick<QueuedStorageControls, "url"> | ((request: Request) => Promise<Response>);

/** The web handler of a file target; options apply when the target is a storage. */
export function _fileHandler(target: FileTarget, options?: FileHandlerOptions): (request: Request) => Promise<Response> {
  return typeof target === "function" ? target : createFileHandler(target, options);
}
