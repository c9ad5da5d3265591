import { defineEventHandler, toWebRequest, type EventHandler, type H3Event } from "h3";
import type { TransferHandlerOptions } from "../queues/qstash.ts";
import type { FileHandlerOptions } from "../serve/handler.ts";
import { _sendWebResponse, _toWebRequest } from "./_h3-node.ts";
import { _fileHandler, _webHandler, type FileTarget, type TransferTarget } from "./_target.ts";

export type { FileTarget, TransferTarget } from "./_target.ts";

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

/**
 * An h3 event handler serving files of a queued storage (`createFileHandler`): GET/HEAD with ETag, 304 and ranges,
 * optional redirects and uploads. Register it for every path under `options.route` (h3 v1).
 *
 * @example
 * const router = createRouter().use("/files/**", defineFileHandler(storage, { route: "/files/", redirect: true }));
 */
export function defineFileHandler(target: FileTarget, options?: FileHandlerOptions): EventHandler {
  const handler = _fileHandler(target, options);
  return defineEventHandler(async (event: H3Event) => _sendWebResponse(event, await handler(_toWebRequest(event))));
}
