import { createStatusHandler, type StatusHandlerOptions } from "../../serve/status.ts";
import { _error } from "../../_errors.ts";
import type { QueuedStorageControls } from "../../types.ts";
import type { QueuedStorageRuntimeConfig } from "./_config.ts";

/** The status page's options that are code: `authorize` and `onError` (the route stays in config, `status.route`). */
export type NitroStatusHandlerOptions = Partial<Omit<StatusHandlerOptions, "route">>;

/**
 * Types the default export of the module named by `status.options`; returns `options` unchanged. Its `authorize`
 * replaces the token check of `status.token`.
 *
 * @example
 * // server/status-options.ts; nitro.config.ts: runtimeConfig.queuedStorage.status = { route: "/_queued-storage", options: "./server/status-options.ts" }
 * export default defineStatusHandlerOptions({ authorize: (request) => isAdmin(request) });
 */
export function defineStatusHandlerOptions(options: NitroStatusHandlerOptions): NitroStatusHandlerOptions {
  return options;
}

let _handler: ((request: Request) => Promise<Response>) | undefined;

/**
 * Checks the status page's options and creates its handler at startup (so its metrics count from the start): a page
 * that nobody may open, or anybody, stops the server.
 */
export function _keepStatusOptions(
  config: QueuedStorageRuntimeConfig["status"],
  code: { file: string; module: { default?: unknown } } | undefined,
  controls: QueuedStorageControls,
): void {
  const fail = (message: string): never => {
    throw _error(`status${code ? `.options (${JSON.stringify(code.file)})` : ""}: ${message}`, { scope: "nitro", retryable: false });
  };
  const given = (code?.module.default ?? {}) as NitroStatusHandlerOptions & Record<string, unknown>;
  if (code && (typeof code.module.default !== "object" || code.module.default === null)) fail("the default export must be an object: export default defineStatusHandlerOptions({ authorize })");
  const unknown = Object.keys(given).filter((key) => key !== "authorize" && key !== "onError");
  if (unknown.length) fail(`unknown option ${unknown.map((k) => `\`${k}\``).join(", ")}; known: authorize, onError`);
  if (given.authorize !== undefined && typeof given.authorize !== "function") fail("`authorize` must be a function");
  const token = config.token;
  if (!given.authorize && !token) fail("set `status.token` (env NITRO_QUEUED_STORAGE_STATUS_TOKEN) or an `authorize` in `status.options`");
  _handler = createStatusHandler(controls, {
    route: config.route.replace(/\/+$/, "") || "/",
    authorize: given.authorize ?? _tokenCheck(token),
    ...(given.onError && { onError: given.onError }),
  });
}

/** The status route's handler. */
export function _statusHandler(): (request: Request) => Promise<Response> {
  if (!_handler) throw _error("the status page is not configured: is the module's plugin running?", { scope: "nitro" });
  return _handler;
}

/** `Authorization: Bearer <token>`, or Basic with the token as password (browsers prompt for it on the 401). */
function _tokenCheck(token: string): StatusHandlerOptions["authorize"] {
  return (request) => {
    const header = request.headers.get("authorization") ?? "";
    let given = "";
    if (/^bearer /i.test(header)) given = header.slice(7).trim();
    else if (/^basic /i.test(header)) {
      try {
        given = atob(header.slice(6).trim()).split(":").slice(1).join(":");
      } catch {
        given = "";
      }
    }
    if (given && _same(given, token)) return true;
    return new Response("Unauthorized", { status: 401, headers: { "www-authenticate": 'Basic realm="queued-storage"' } });
  };
}

/** Compares without returning early on the first differing character. */
function _same(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}
