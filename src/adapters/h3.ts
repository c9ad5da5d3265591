import type { TransferHandlerOptions } from "../queues/qstash.ts";
import type { FileHandlerOptions, FileRequestContext } from "../serve/handler.ts";
import { createStatusHandler, type StatusHandlerOptions } from "../serve/status.ts";
import type { StatusTarget } from "./_status-target.ts";
import { _h3Request, _isWebRequest, type H3EventLike } from "./_h3-request.ts";
import { _fileHandler, _webHandler, type FileTarget, type TransferTarget } from "./_target.ts";

export type { FileTarget, TransferTarget } from "./_target.ts";
export type { H3EventLike } from "./_h3-request.ts";
export { expectContinue, type ContinueRequest, type ContinueResponse, type ContinueServer, type ExpectContinueOptions } from "./_continue.ts";
export type { StatusTarget } from "./_status-target.ts";

/**
 * An h3 event handler, for h3 1 and h3 2 alike: a plain function marked as h3 1's `defineEventHandler` marks it
 * (`__is_handler__`), which is all an h3 2 handler is.
 */
export interface H3TransferHandler {
  (event: H3EventLike): Promise<Response>;
  __is_handler__: true;
}

/**
 * An h3 event handler for the QStash transfer webhook, for h3 1 (Nitro 2, Nuxt 3/4) and h3 2 (Nitro 3). The request
 * goes to `createTransferHandler` as a web `Request` over the raw body (h3 2's `event.req`, h3 1's `toWebRequest`),
 * so the signature is checked against the exact bytes that arrived; the web `Response` is returned as is.
 *
 * @example
 * // h3 2
 * import { H3 } from "h3";
 * import { defineTransferHandler } from "queued-storage/h3";
 * const app = new H3().post("/api/transfer", defineTransferHandler(storage, { url: "https://app.example.com/api/transfer" }));
 * // h3 1
 * import { createApp, createRouter } from "h3";
 * createApp().use(createRouter().post("/api/transfer", defineTransferHandler(storage, { url: "https://app.example.com/api/transfer" })));
 */
export function defineTransferHandler(target: TransferTarget, options?: TransferHandlerOptions): H3TransferHandler {
  const handler = _webHandler(target, options);
  return Object.assign(async (event: H3EventLike) => handler(await _h3Request(event)), { __is_handler__: true as const });
}

let _h3Node: Promise<typeof import("./_h3-node.ts")> | undefined;

/** An h3 event handler (h3 1 and 2) serving files; see {@link defineFileHandler}. */
export interface H3FileHandler {
  (event: H3EventLike): Promise<Response | undefined>;
  __is_handler__: true;
}

/**
 * An h3 event handler serving files of a queued storage (`createFileHandler`): GET/HEAD with ETag, 304 and ranges,
 * optional redirects and uploads. Register it for every path under `options.route`. On h3 2 the web `Request` goes in
 * and the `Response` comes back as they are; on h3 1 the Node request is read with backpressure and the response
 * body written the same way (h3 1's own conversion buffers an upload without limit).
 *
 * @example
 * // h3 2
 * const app = new H3().all("/files/**", defineFileHandler(storage, { route: "/files/", redirect: true }));
 * // h3 1
 * const router = createRouter().use("/files/**", defineFileHandler(storage, { route: "/files/", redirect: true }));
 */
export function defineFileHandler(target: FileTarget, options?: FileHandlerOptions): H3FileHandler {
  const handler = _fileHandler(target, options);
  const serve = async (event: H3EventLike): Promise<Response | undefined> => {
    const context = _requestContext(event);
    if (_isWebRequest(event.req)) return handler(event.req, context);
    // h3 1 only, loaded on first use: it imports h3 1's helpers, which h3 2 does not have.
    const node = await (_h3Node ??= import("./_h3-node.ts"));
    return node._sendWebResponse(event as never, await handler(await node._toWebRequest(event as never), context));
  };
  return Object.assign(serve, { __is_handler__: true as const });
}

/** The event's `waitUntil` (h3 1.10+ and h3 2 have one; on Workers and Vercel it is the platform's). */
function _requestContext(event: H3EventLike): FileRequestContext | undefined {
  const waitUntil = (event as { waitUntil?: unknown }).waitUntil;
  return typeof waitUntil === "function" ? { waitUntil: (promise) => waitUntil.call(event, promise) } : undefined;
}

// --- status page (issue 21) ---

/** An h3 event handler (h3 1 and 2) serving the status page; see {@link defineStatusHandler}. */
export interface H3StatusHandler {
  (event: H3EventLike): Promise<Response | undefined>;
  __is_handler__: true;
}

/**
 * An h3 event handler for the operator's status page (`createStatusHandler`): the page, its JSON, `<route>/metrics`,
 * and the Retry/Sync POSTs. Register it for `route` and every path under it.
 *
 * @example
 * const app = new H3().all("/_queued-storage/**", defineStatusHandler(storage, { route: "/_queued-storage", authorize }));
 */
export function defineStatusHandler(target: StatusTarget, options?: StatusHandlerOptions): H3StatusHandler {
  const handler = typeof target === "function" ? target : createStatusHandler(target, options!);
  const serve = async (event: H3EventLike): Promise<Response | undefined> => {
    if (_isWebRequest(event.req)) return handler(event.req);
    const node = await (_h3Node ??= import("./_h3-node.ts"));
    return node._sendWebResponse(event as never, await handler(await node._toWebRequest(event as never)));
  };
  return Object.assign(serve, { __is_handler__: true as const });
}
