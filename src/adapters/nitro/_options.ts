import type { FileHandlerOptions } from "../../serve/handler.ts";

/**
 * The options of the module's file route that are code (functions, or settings config cannot express): everything
 * of `createFileHandler` but `route`, which stays in config (`serve.route`) because it is registered at build time.
 */
export type NitroFileHandlerOptions = Omit<FileHandlerOptions, "route">;

/**
 * Types the default export of the module named by `serve.options`; returns `options` unchanged. What this file sets
 * wins over `serve.redirect`, `serve.cacheControl` and `serve.contentDisposition` of the config (and their env
 * overrides); what it leaves out comes from the config.
 *
 * @example
 * // server/file-options.ts; nitro.config.ts: runtimeConfig.queuedStorage.serve = { route: "/files", options: "./server/file-options.ts" }
 * import { defineFileHandlerOptions } from "queued-storage/nitro";
 *
 * export default defineFileHandlerOptions({
 *   authorize: (request, key, operation) =>
 *     operation === "read" || request.headers.get("authorization") === `Bearer ${useRuntimeConfig().filesToken}`,
 *   upload: { maxBytes: 10 * 1024 * 1024, types: ["image/*"] },
 * });
 */
export function defineFileHandlerOptions(options: NitroFileHandlerOptions): NitroFileHandlerOptions {
  return options;
}
