import { _error, _messageOf } from "../_errors.ts";
import { _assertKey } from "../_keys.ts";
import { _accessOf } from "../core/_access.ts";
import type { QueuedStorageControls } from "../types.ts";
import type { TransferState } from "../contracts.ts";
import { _renderKey, _renderOverview, type _PageContext } from "./_status-html.ts";
import { _instrument, _prometheus } from "./_status-metrics.ts";
import { _cookie, _crossSite, _json, _prefersJson, _random, _readLimited, _stringFields, _text } from "./_status-http.ts";

/** What a request to the status page does, for `authorize`: look (`read`, also `/metrics`) or act (`write`: Retry, Sync). */
export type StatusOperation = "read" | "write";

/** Options of {@link createStatusHandler}. */
export interface StatusHandlerOptions {
  /**
   * Decide per request: `true` allows, `false` answers 403, a `Response` is sent as is (e.g. a 401 with a
   * WWW-Authenticate). Required: the page shows every key and its buttons requeue transfers.
   * @example (request, op) => request.headers.get("authorization") === `Bearer ${env.STATUS_TOKEN}`
   */
  authorize: (request: Request, operation: StatusOperation) => boolean | Response | Promise<boolean | Response>;
  /** Path the page answers at; `<route>/metrics` serves Prometheus metrics. Default `"/"`. @example "/_queued-storage" */
  route?: string;
  /** Called with unexpected errors (answered 500 without details). Default: `console.error`. */
  onError?: (error: unknown, request: Request) => void;
}

type Controls = Pick<QueuedStorageControls, "stats" | "list" | "retry" | "sync" | "status" | "url">;

const COOKIE = "qs_status_token";
const MAX_FORM_BYTES = 8192;

/**
 * The operator's page of a queued storage: counts per state, the age of the oldest unfinished write, keys by state
 * with their error, a page per key, and Retry / Sync buttons. One server-rendered HTML page (readable without
 * JavaScript, refreshing itself with it), the same data as JSON (`?format=json` or `Accept: application/json`) and
 * `<route>/metrics` in the Prometheus text format. POSTs must be same-origin (Origin, Sec-Fetch-Site) and carry the
 * page's form token (or be JSON, which no cross-site form can send). Web-standard and edge-safe; create it once at
 * startup, as it counts this process's transfers from then on.
 *
 * @example
 * const status = createStatusHandler(storage, {
 *   route: "/_queued-storage",
 *   authorize: (request) => request.headers.get("authorization") === `Bearer ${env.STATUS_TOKEN}`,
 * });
 */
export function createStatusHandler(storage: Controls, options: StatusHandlerOptions): (request: Request) => Promise<Response> {
  const access = _accessOf(storage);
  if (!access) {
    throw _error("createStatusHandler(storage): expected a queued storage (createQueuedStorage(...) or queuedDriver(...).getInstance())");
  }
  if (typeof options?.authorize !== "function") {
    throw _error("createStatusHandler(storage, { authorize }): `authorize(request, operation)` is required; `() => true` opens the page to anyone who reaches it");
  }
  const route = _route(options.route ?? "/");
  const metricsPath = `${route === "/" ? "" : route}/metrics`;
  const onError = options.onError ?? ((error: unknown) => console.error("[queued-storage] status handler:", error));
  const metrics = _instrument(access.ctx);

  async function serve(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    const path = url.pathname.replace(/(.)\/+$/, "$1");
    const isPage = path === route;
    if (!isPage && path !== metricsPath) return _text(404, "Not Found");
    if (method === "POST" && isPage) {
      if (_crossSite(request, url)) return _text(403, "Forbidden: cross-site request");
      const verdict = await options.authorize(request, "write");
      if (verdict instanceof Response) return verdict;
      if (verdict !== true) return _text(403, "Forbidden");
      return _act(request, url);
    }
    if (method !== "GET" && method !== "HEAD") return _text(405, "Method Not Allowed", { allow: isPage ? "GET, HEAD, POST" : "GET, HEAD" });
    const verdict = await options.authorize(request, "read");
    if (verdict instanceof Response) return verdict;
    if (verdict !== true) return _text(403, "Forbidden");
    if (!isPage) {
      const body = _prometheus(await storage.stats(), metrics, Date.now());
      return _text(200, body, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    }
    return _show(request, url);
  }

  async function _show(request: Request, url: URL): Promise<Response> {
    const query = url.searchParams;
    const json = query.get("format") === "json" || _prefersJson(request);
    const now = Date.now();
    const key = query.get("key");
    if (key !== null) {
      _assertKey(key);
      const status = await storage.status(key);
      let link: string | null = null;
      let urlError: string | undefined;
      if (status) {
        try {
          link = await storage.url(key);
        } catch (error) {
          urlError = _messageOf(error).replace(/^\[queued-storage\] /, "");
        }
      }
      const tier = status ? (status.state === "remote" ? "remote" : "local") : null;
      if (json) return _json(200, { key, status, tier, url: link, ...(urlError && { urlError }) });
      return _html(request, (page) => _renderKey({ key, status, url: link, urlError }, page), now, query.get("done"));
    }
    const state = (query.get("state") || undefined) as TransferState | undefined;
    const prefix = query.get("prefix") ?? "";
    const limitText = query.get("limit");
    const limit = limitText === null ? 50 : /^\d{1,5}$/.test(limitText) ? Number(limitText) : Number.NaN;
    const [stats, page] = await Promise.all([
      storage.stats(),
      storage.list({ state, prefix, limit, cursor: query.get("cursor") ?? undefined }),
    ]);
    if (json) return _json(200, { stats, list: { state: state ?? null, prefix, ...page } });
    return _html(request, (context) => _renderOverview({ stats, state, prefix, page }, context), now, query.get("done"));
  }

  async function _act(request: Request, url: URL): Promise<Response> {
    const type = request.headers.get("content-type") ?? "";
    const isJson = /^application\/json\b/i.test(type);
    if (!isJson && !/^application\/x-www-form-urlencoded\b/i.test(type)) return _text(415, "Unsupported Media Type: send a form or JSON");
    const text = await _readLimited(request, MAX_FORM_BYTES);
    if (text === null) return _text(413, "Payload Too Large");
    let fields: Record<string, string>;
    try {
      fields = isJson ? _stringFields(JSON.parse(text)) : Object.fromEntries(new URLSearchParams(text));
    } catch {
      return _text(400, "Bad Request: malformed JSON");
    }
    // The form token (double-submit: the page's cookie and its hidden field); JSON needs none, no form can send it.
    if (!isJson && (!fields.token || fields.token !== _cookie(request, COOKIE))) return _text(403, "Forbidden: missing or stale form token; reload the page");
    const { action, key } = fields;
    let result: unknown;
    let notice: string;
    if (action === "retry" && key !== undefined) {
      _assertKey(key);
      result = await storage.retry(key);
      notice = result ? `Queued ${key} again.` : `${key} has no transfer state.`;
    } else if (action === "retry-failed") {
      const retried = await storage.retry({ state: "failed" });
      result = retried;
      notice = `Queued ${retried.length} failed key${retried.length === 1 ? "" : "s"} again.`;
    } else if (action === "sync") {
      result = await storage.sync();
      const report = result as { queued: number; removed: number; dropped: number };
      notice = `Sync queued ${report.queued}, finished ${report.removed} removals, dropped ${report.dropped} ghosts.`;
    } else {
      return _text(400, 'Bad Request: `action` must be "retry" (with `key`), "retry-failed" or "sync"');
    }
    if (isJson) return _json(200, { action, result });
    const back = new URLSearchParams({ done: notice });
    if (fields.from === "key" && key !== undefined) back.set("key", key);
    return new Response(null, { status: 303, headers: { location: `${url.pathname}?${back}`, "cache-control": "no-store" } });
  }

  function _html(request: Request, render: (page: _PageContext) => string, now: number, done: string | null): Response {
    const existing = _cookie(request, COOKIE);
    const token = existing && /^[\w-]{20,64}$/.test(existing) ? existing : _random();
    const nonce = _random();
    const headers: Record<string, string> = {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy": `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
      "x-frame-options": "DENY",
      "referrer-policy": "same-origin",
      "x-content-type-options": "nosniff",
    };
    if (token !== existing) {
      const secure = new URL(request.url).protocol === "https:" ? "; Secure" : "";
      headers["set-cookie"] = `${COOKIE}=${token}; Path=${route}; HttpOnly; SameSite=Strict${secure}`;
    }
    const notice = done === null ? undefined : done.slice(0, 300);
    const query = Object.fromEntries([...new URL(request.url).searchParams].filter(([name]) => name !== "done" && name !== "format"));
    return new Response(render({ route, token, nonce, now, notice, query }), { status: 200, headers });
  }

  return async (request) => {
    try {
      return await serve(request);
    } catch (error) {
      // Bad input (a key, a cursor, a limit, a state) is the caller's: 400 with the reason, nothing changed.
      if ((error as { retryable?: boolean }).retryable === false) {
        return _text(400, `Bad Request: ${_messageOf(error).replace(/^\[queued-storage\] /, "")}`);
      }
      onError(error, request);
      return _text(500, "Internal Server Error");
    }
  };
}

// --- internal ---

function _route(route: string): string {
  if (typeof route !== "string" || !route.startsWith("/")) throw _error(`createStatusHandler: \`route\` must start with "/", got ${JSON.stringify(route)}`);
  return route.length > 1 ? route.replace(/\/+$/, "") : route;
}
