import { defineEventHandler, toWebRequest, type EventHandler, type H3Event } from "h3";
import type { TransferHandlerOptions } from "../queues/qstash.ts";
import { _webHandler, type TransferTarget } from "./_target.ts";

export type { TransferTarget } from "./_target.ts";

/**
 * An h3 event handler for the QStash transfer webhook (h3 v1, the line Nitro 2 and Nuxt 3/4 use). The request goes
 * to `createTransferHandler` as a web `Request` over the raw body stream (`toWebRequest`), so the signature is checked
 * against the exact bytes that arrived; the web `Response` is returned as is.
 *
 * @example
 * import { createApp, createRouter } from "h3";
 * import { defineTransferHandler } from "queued-storage/h3";
 * const router = createRouter().post("/api/transfer", defineTransferHandler(storage, { url: "https://app.example.com/api/transfer" }));
 * createApp().use(router);
 */
export function defineTransferHandler(target: TransferTarget, options?: TransferHandlerOptions): EventHandler {
  const handler = _webHandler(target, options);
  return defineEventHandler((event: H3Event) => handler(toWebRequest(event)));
}
