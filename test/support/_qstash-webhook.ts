import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";

/** A request as the webhook received it, for assertions. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Webhook {
  /** Base URL, `http://127.0.0.1:<port>`. */
  origin: string;
  port: number;
  received: ReceivedRequest[];
  /** Close the port (connections are refused, like a webhook that is down). */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
}

/**
 * A node:http server on loopback that turns each request into a Web `Request` for `handler` and writes its
 * `Response` back: how a webhook built on `(request: Request) => Promise<Response>` runs on Node.
 */
export async function serveWebhook(
  handler: (request: Request) => Response | Promise<Response>,
  options: { port?: number; record?: boolean } = {},
): Promise<Webhook> {
  const received: ReceivedRequest[] = [];
  let server: Server | undefined;
  let port = options.port ?? 0;

  async function listen(): Promise<void> {
    server = createServer((req, res) => {
      void (async () => {
        try {
          const request = toRequest(req, port);
          if (options.record !== false) {
            const copy = request.clone();
            received.push({ method: req.method ?? "GET", url: request.url, headers: flat(req), body: await copy.text() });
          }
          const response = await handler(request);
          const headers: Record<string, string> = {};
          response.headers.forEach((value, name) => (headers[name] = value));
          res.writeHead(response.status, headers);
          res.end(Buffer.from(await response.arrayBuffer()));
        } catch (error) {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`webhook crashed: ${(error as Error).message}`);
        }
      })();
    });
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  }

  await listen();
  return {
    get origin() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    received,
    async stop() {
      const closing = server;
      server = undefined;
      if (!closing) return;
      closing.closeAllConnections();
      await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    async start() {
      if (!server) await listen();
    },
  };
}

// --- internal ---

function flat(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

function toRequest(req: IncomingMessage, port: number): Request {
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(`http://127.0.0.1:${port}${req.url ?? "/"}`, {
    method,
    headers: flat(req),
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    // @ts-expect-error: Node's fetch needs duplex for a streamed request body; the DOM types do not know it
    duplex: "half",
  });
}
