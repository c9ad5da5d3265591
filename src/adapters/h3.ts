import type { TransferHandlerOptions } from "../queues/qstash.ts";
import { _h3Request, type H3EventLike } from "./_h3-request.ts";
import { _webHandler, type TransferTarget } from "./_target.ts";

export type { TransferTarget } from "./_target.ts";
export type { H3EventLike } from "./_h3-request.ts";

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
