import { _requestBody, _sendBody } from "./_node-request-body.ts";
import { _responseOf } from "./_node-response.ts";
import { _nodeHttp, type _NodeResponse, type NodeAgent } from "./_node-types.ts";
import { _error } from "../_errors.ts";

export type { NodeAgent };

/** Options of `createNodeFetch`. Every one is optional. */
export interface NodeFetchOptions {
  /**
   * Most sockets open at once per host (per agent). Default 256. Requests beyond it wait for a free socket.
   * @example 64
   */
  maxSockets?: number;
  /**
   * Agent for `http:` URLs, instead of the keep-alive agent this transport makes. Bring your own for a proxy
   * (e.g. `new HttpProxyAgent(…)` from `http-proxy-agent`) or for socket options.
   */
  agent?: NodeAgent;
  /** Agent for `https:` URLs, as `agent` (e.g. `new HttpsProxyAgent(…)`, or one with your CA certificates). */
  httpsAgent?: NodeAgent;
}

/**
 * A `fetch` over `node:http` / `node:https` for the S3 driver's `fetch` option on Node. It costs less CPU per request
 * than Node's built-in fetch (undici): about 0.3 ms less per 16 KiB upload in bench 7, and it sends a request's
 * headers and a byte body in one write, which a server parses once. Deno and Bun have their own fetch in native code:
 * keep the platform's there.
 *
 * What it does differently from the platform fetch, on purpose for a storage client:
 * - redirects are returned as they are (as `redirect: "manual"` would), never followed: S3 signs each URL;
 * - bodies are not decompressed: an object stored with `Content-Encoding: gzip` reads back as the stored bytes;
 * - it does not use undici's global dispatcher: pass `agent` / `httpsAgent` for a proxy.
 *
 * The S3 driver's `fetch: "node"` is this transport with its defaults, for configs that are JSON (the Nitro module).
 *
 * A `Request` object as input, or a body it does not know (FormData), goes to the platform `fetch` unchanged.
 *
 * @example
 * import s3Driver from "queued-storage/drivers/s3";
 * import { createNodeFetch } from "queued-storage/node-fetch";
 * const remote = s3Driver({ endpoint, bucket, accessKeyId, secretAccessKey, fetch: createNodeFetch() });
 */
export function createNodeFetch(options: NodeFetchOptions = {}): typeof fetch {
  const maxSockets = options.maxSockets ?? 256;
  if (!(Number.isInteger(maxSockets) && maxSockets >= 1)) {
    throw _error(`Option \`maxSockets\` must be a positive integer, got ${maxSockets}.`, { scope: "node-fetch", type: TypeError, retryable: false });
  }
  const { http: httpModule, https: httpsModule } = _nodeHttp();
  let http = options.agent;
  let https = options.httpsAgent;
  const agentFor = (protocol: string): NodeAgent =>
    protocol === "https:"
      ? (https ??= new httpsModule.Agent({ keepAlive: true, maxSockets, scheduling: "lifo" }))
      : (http ??= new httpModule.Agent({ keepAlive: true, maxSockets, scheduling: "lifo" }));

  return function nodeFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const body = input instanceof Request ? undefined : _requestBody(init.body);
    if (body === undefined) return fetch(input, init);
    let url: URL;
    try {
      url = typeof input === "string" ? new URL(input) : (input as URL);
    } catch (cause) {
      return Promise.reject(new TypeError(`Invalid URL: ${input}`, { cause }));
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return fetch(input, init);
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const method = (init.method ?? "GET").toUpperCase();
    const headers = _headerRecord(init.headers);
    if (body.length !== undefined && headers["content-length"] === undefined && (body.length > 0 || _sendsBody(method))) {
      headers["content-length"] = String(body.length);
    }
    if (body.type !== undefined && headers["content-type"] === undefined) headers["content-type"] = body.type;

    return new Promise<Response>((resolve, reject) => {
      const send = url.protocol === "https:" ? httpsModule.request : httpModule.request;
      const req = send(url, { method, headers, agent: agentFor(url.protocol) });
      let settled = false;
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        reject(signal?.aborted ? signal.reason : new TypeError("fetch failed", { cause: error }));
      };
      function onAbort(): void {
        req.destroy(signal!.reason as Error);
        fail(signal!.reason);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", fail); // every time: a socket may report more than one error, and each must be handled
      req.once("response", (res: _NodeResponse) => {
        if (settled) return void res.destroy();
        settled = true;
        try {
          resolve(_responseOf(res, method, signal, () => signal?.removeEventListener("abort", onAbort)));
        } catch (error) {
          res.destroy();
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        }
      });
      _sendBody(req, body).catch((error: unknown) => {
        req.destroy(error as Error);
        fail(error);
      });
    });
  } as typeof fetch;
}

// --- internal ---

/** Headers as Node wants them: one lower-cased name per entry (Headers already joins repeated ones). */
function _headerRecord(init: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!init) return out;
  const entries = init instanceof Headers || Array.isArray(init) ? init : Object.entries(init);
  for (const [name, value] of entries as Iterable<[string, string]>) {
    const lower = name.toLowerCase();
    out[lower] = out[lower] === undefined ? String(value) : `${out[lower]}, ${value}`;
  }
  return out;
}

/** Methods whose empty body still says `Content-Length: 0`, as fetch sends it. */
function _sendsBody(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH";
}
