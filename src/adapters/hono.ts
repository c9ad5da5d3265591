import type { TransferHandlerOptions } from "../queues/qstash.ts";
import type { FileHandlerOptions, FileRequestContext } from "../serve/handler.ts";
import { createStatusHandler, type StatusHandlerOptions } from "../serve/status.ts";
import type { StatusTarget } from "./_status-target.ts";
import { _fileHandler, _webHandler, type FileTarget, type TransferTarget } from "./_target.ts";

export type { FileTarget, TransferTarget } from "./_target.ts";
export { expectContinue, type ContinueRequest, type ContinueResponse, type ContinueServer, type ExpectContinueOptions } from "./_continue.ts";
export type { StatusTarget } from "./_status-target.ts";

/** The part of Hono's `Context` the route needs: the untouched web `Request`. */
export interface HonoContextLike {
  req: { raw: Request };
  /** Workers' and Deno Deploy's `ExecutionContext`; Hono's getter throws where the runtime has none (Node). */
  readonly executionCtx?: { waitUntil(promise: Promise<unknown>): void };
}

/**
 * A Hono route handler for the QStash transfer webhook: hands `c.req.raw` (the exact bytes that arrived, so the
 * signature's body hash matches) to `createTransferHandler`. Register it before any middleware that reads the body.
 * Hono itself is not imported: the handler works with any Hono version and on every runtime Hono runs on.
 *
 * @example
 * import { Hono } from "hono";
 * import { transferRoute } from "queued-storage/hono";
 * const app = new Hono();
 * app.post("/api/transfer", transferRoute(storage, { url: "https://app.example.com/api/transfer" }));
 */
export function transferRoute(
  target: TransferTarget,
  options?: TransferHandlerOptions,
): (c: HonoContextLike) => Promise<Response> {
  const handler = _webHandler(target, options);
  return (c) => handler(c.req.raw);
}

/**
 * A Hono route handler serving files of a queued storage (`createFileHandler` over `c.req.raw`): GET/HEAD with ETag,
 * 304 and ranges, optional redirects and uploads.
 *
 * @example
 * app.all("/files/*", fileRoute(storage, { route: "/files/" }));
 */
export function fileRoute(target: FileTarget, options?: FileHandlerOptions): (c: HonoContextLike) => Promise<Response> {
  const handler = _fileHandler(target, options);
  return (c) => handler(c.req.raw, _requestContext(c));
}

// --- status page (issue 21) ---

/**
 * A Hono route handler for the operator's status page (`createStatusHandler` over `c.req.raw`): the page, its JSON,
 * `<route>/metrics` and the Retry/Sync POSTs.
 *
 * @example
 * app.all("/_queued-storage/*", statusRoute(storage, { route: "/_queued-storage", authorize }));
 * app.all("/_queued-storage", statusRoute(storage, { route: "/_queued-storage", authorize }));
 */
export function statusRoute(target: StatusTarget, options?: StatusHandlerOptions): (c: HonoContextLike) => Promise<Response> {
  const handler = typeof target === "function" ? target : createStatusHandler(target, options!);
  return (c) => handler(c.req.raw);
}

// --- internal ---

/** The runtime's `waitUntil`, where it has one, for an upload's background publish (`acknowledge: "stored"`). */
function _requestContext(c: HonoContextLike): FileRequestContext | undefined {
  let executionCtx: HonoContextLike["executionCtx"];
  try {
    executionCtx = c.executionCtx;
  } catch {
    return undefined; // Node: "This context has no ExecutionContext"
  }
  const waitUntil = executionCtx?.waitUntil;
  return typeof waitUntil === "function" ? { waitUntil: (promise) => waitUntil.call(executionCtx, promise) } : undefined;
}
