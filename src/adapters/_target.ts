import { createTransferHandler, type TransferHandlerOptions } from "../queues/qstash.ts";
import type { QueuedStorageControls } from "../types.ts";

/** What a framework adapter wraps: a queued storage (or its controls), or a ready `createTransferHandler(...)`. */
export type TransferTarget = Pick<QueuedStorageControls, "handle" | "fail"> | ((request: Request) => Promise<Response>);

/** The web handler of a target; options apply when the target is a storage. */
export function _webHandler(target: TransferTarget, options?: TransferHandlerOptions): (request: Request) => Promise<Response> {
  return typeof target === "function" ? target : createTransferHandler(target, options);
}
