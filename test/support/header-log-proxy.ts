// An HTTP proxy in front of a server that keeps the method, path and headers of every request it forwards, so a test
// can tell which HTTP client a built app used. Headers go on unchanged (Host included, so SigV4 signatures still hold).
import { createServer, request, type IncomingHttpHeaders } from "node:http";

export interface HeaderLogProxy {
  /** `http://127.0.0.1:<port>`: use it where the target's origin would go. */
  endpoint: string;
  requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders }>;
  stop(): Promise<void>;
}

export async function startHeaderLogProxy(target: string): Promise<HeaderLogProxy> {
  const to = new URL(target);
  const requests: HeaderLogProxy["requests"] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method!, path: req.url!, headers: req.headers });
    const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.rawHeaders);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    stop: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
