// What the transport uses of node:http / node:https, typed structurally: no `node:*` specifier anywhere in the
// transport, so the S3 driver (which offers it as `fetch: "node"`) stays free of Node imports, types included.
import { _builtin } from "../_builtin.ts";
import { _error } from "../_errors.ts";

/** An `http.Agent` or `https.Agent` (proxy agents included): the transport only hands it to `request`. */
export interface NodeAgent {
  destroy(): void;
}

type _Listener = (...args: never[]) => void;

/** What the transport uses of `http.IncomingMessage`. */
export interface _NodeResponse {
  statusCode?: number;
  statusMessage?: string;
  rawHeaders: string[];
  errored?: Error | null;
  on(event: string, listener: _Listener): this;
  once(event: string, listener: _Listener): this;
  pause(): this;
  resume(): this;
  destroy(error?: Error): this;
}

/** What the transport uses of `http.ClientRequest`. */
export interface _NodeRequest {
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): this;
  destroy(error?: Error): this;
  on(event: string, listener: _Listener): this;
  once(event: string, listener: _Listener): this;
  off(event: string, listener: _Listener): this;
}

/** What the transport uses of the node:http and node:https modules. */
export interface _NodeHttpModule {
  Agent: new (options: { keepAlive: boolean; maxSockets: number; scheduling: "lifo" }) => NodeAgent;
  request(url: URL, options: { method: string; headers: Record<string, string>; agent: NodeAgent }): _NodeRequest;
}

/**
 * node:http and node:https, looked up rather than imported, so that the S3 driver can offer this transport without
 * putting Node built-ins into edge bundles. `process.getBuiltinModule` exists in Node 20.16+, Bun and Deno.
 */
export function _nodeHttp(): { http: _NodeHttpModule; https: _NodeHttpModule } {
  const http = _builtin<_NodeHttpModule>("node:http");
  const https = _builtin<_NodeHttpModule>("node:https");
  if (!http || !https) {
    throw _error("createNodeFetch needs node:http and node:https through process.getBuiltinModule (Node 20.16 or later, " +
      "Bun, Deno); this runtime has neither: use its fetch.", { scope: "node-fetch", type: TypeError, retryable: false });
  }
  return { http, https };
}
