/** What `expectContinue` uses of a node:http `Server` (typed structurally: no node:* import in the adapters). */
export interface ContinueServer {
  on(event: "checkContinue", listener: (request: ContinueRequest, response: ContinueResponse) => void): unknown;
  emit(event: "request", request: ContinueRequest, response: ContinueResponse): boolean;
}

/** What `expectContinue` reads of a node:http `IncomingMessage`. */
export interface ContinueRequest {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** What `expectContinue` writes on a node:http `ServerResponse`. */
export interface ContinueResponse {
  writeContinue(): void;
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
}

/** Which uploads `expectContinue` refuses before their body. */
export interface ExpectContinueOptions {
  /** The upload limit of the file route (`upload.maxBytes`): a declared Content-Length above it gets 413. */
  maxBytes: number;
  /** Only PUT/POST under this path prefix (the file route, e.g. `"/files/"`) are checked; default: every PUT/POST. */
  route?: string;
}

/**
 * Answers `Expect: 100-continue` on a node:http server (also the one `@hono/node-server`'s `serve()` returns): a PUT
 * or POST whose `Content-Length` is over `maxBytes` gets its 413 before the client sends a byte of the body; every
 * other request gets `100 Continue` and goes on as usual. Without it Node answers `100 Continue` on its own, the client
 * starts sending, and the 413 that follows arrives as a broken pipe (curl: "Send failure: Broken pipe").
 *
 * @example
 * // `http` is node:http (imported by your server, never by this adapter)
 * const server = http.createServer(toNodeListener(app));
 * expectContinue(server, { maxBytes: 64 * 1024 * 1024, route: "/files/" });
 */
export function expectContinue(server: ContinueServer, options: ExpectContinueOptions): void {
  const route = options.route;
  server.on("checkContinue", (request, response) => {
    const method = request.method?.toUpperCase();
    const declared = Number(request.headers["content-length"]);
    const checked = (method === "PUT" || method === "POST") && (!route || (request.url ?? "/").startsWith(route));
    if (checked && Number.isFinite(declared) && declared > options.maxBytes) {
      // `connection: close`: the body was never asked for, so the connection cannot carry another request.
      response.writeHead(413, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      response.end(`Payload Too Large: at most ${options.maxBytes} bytes`);
      return;
    }
    response.writeContinue();
    server.emit("request", request, response);
  });
}
