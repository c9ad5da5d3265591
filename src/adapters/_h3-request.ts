import { _error } from "../_errors.ts";

/**
 * The part of an h3 event the adapters read. h3 2 (Nitro 3) carries the web `Request` as `event.req`; h3 1 (Nitro 2,
 * Nuxt 3/4) carries Node's request as `event.node.req` and converts with its own `toWebRequest`.
 */
export interface H3EventLike {
  req?: unknown;
  node?: unknown;
}

/**
 * The web `Request` of an h3 event of either major. h3 2's own request is handed on as it is (never re-read or
 * cancelled here: the framework owns it). For h3 1, `toWebRequest` comes from the `h3` the app runs, loaded on first
 * use: a static import would fail to link under h3 2, which has no such export.
 */
export async function _h3Request(event: H3EventLike): Promise<Request> {
  if (_isWebRequest(event.req)) return event.req;
  if (!event.node) throw _error("not an h3 event: it has neither a web `req` (h3 2) nor `node.req` (h3 1)", { scope: "h3", type: TypeError });
  const h3 = await _h3v1();
  if (typeof h3.toWebRequest !== "function") throw _error("an h3 1 event, but the `h3` module found has no `toWebRequest`", { scope: "h3", type: TypeError });
  return h3.toWebRequest(event as never);
}

/** h3 1's helpers read by the adapters; typed loosely on purpose: the `h3` installed may be either major. */
export interface _H3v1Module {
  toWebRequest?: (event: never) => Request;
  getRequestURL?: (event: never) => URL;
}

let _h3v1Module: Promise<_H3v1Module> | undefined;

/** The `h3` the app runs, imported once (per request it would cost a module-map lookup, or far more under a loader). */
export function _h3v1(): Promise<_H3v1Module> {
  return (_h3v1Module ??= import("h3") as unknown as Promise<_H3v1Module>);
}

// Duck-typed: srvx (h3 2 on Node) hands over its own fast Request class.
export function _isWebRequest(value: unknown): value is Request {
  const request = value as Partial<Request> | undefined;
  return typeof request?.headers?.get === "function" && typeof request.arrayBuffer === "function" && typeof request.url === "string";
}
