// The server of the transport tests: one handler per path, and what it saw, for node:http and node:https alike.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll } from "vitest";
import { gzipSync } from "node:zlib";
import { listen } from "./_servers.ts";

const MiB = 1024 * 1024;

export interface TestServer {
  origin: string;
  /** What the server saw of the last request to each path. */
  seen: Map<string, { method: string; headers: IncomingMessage["headers"]; body: Buffer }>;
  /** Connections accepted, bytes of /big written (and whether all 32 MiB were), bytes /slow-upload received. */
  counts: { connections: number; bigWritten: number; bigFinished: boolean; uploadReceived: number };
  /** The request handler, to serve the same paths over TLS. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  stop(): void;
}

/** Starts the test server on a loopback port. */
export async function startTestServer(): Promise<TestServer> {
  const seen: TestServer["seen"] = new Map();
  const counts: TestServer["counts"] = { connections: 0, bigWritten: 0, bigFinished: false, uploadReceived: 0 };

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url!, "http://x").pathname;
    if (path === "/big") {
      // 32 MiB in 64 KiB writes, each only after the socket took the previous one: what was written is what was read.
      const chunk = Buffer.alloc(64 * 1024, 7);
      counts.bigWritten = 0;
      counts.bigFinished = false;
      res.writeHead(200, { "content-length": String(32 * MiB) });
      const write = (): void => {
        while (counts.bigWritten < 32 * MiB) {
          counts.bigWritten += chunk.byteLength;
          if (!res.write(chunk)) return void res.once("drain", write);
        }
        counts.bigFinished = true;
        res.end();
      };
      return write();
    }
    if (path === "/slow-upload") {
      // Reads nothing until told: the client must stop pulling its body stream.
      counts.uploadReceived = 0;
      req.pause();
      setTimeout(() => {
        req.on("data", (c: Buffer) => (counts.uploadReceived += c.byteLength));
        req.on("end", () => res.end(String(counts.uploadReceived)));
        req.resume();
      }, 400);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.set(path, { method: req.method!, headers: req.headers, body: Buffer.concat(chunks) });
      if (path === "/echo") {
        res.writeHead(201, "Made", [["content-type", "application/octet-stream"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
        return void res.end(Buffer.concat(chunks));
      }
      if (path === "/empty") return void res.writeHead(204).end();
      if (path === "/moved") return void res.writeHead(301, { location: "/echo" }).end("moved");
      if (path === "/gzip") return void res.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync("plain text"));
      if (path === "/cut") {
        // Promises 1 MiB, sends 1 KiB, then drops the connection.
        res.writeHead(200, { "content-length": String(MiB) });
        res.write(Buffer.alloc(1024));
        return void setTimeout(() => res.socket?.destroy(), 20);
      }
      if (path === "/hang") return; // never answers
      res.end("ok");
    });
  }

  const server: Server = createServer(handle);
  server.on("connection", () => counts.connections++);
  const origin = await listen(server);
  return {
    origin,
    seen,
    counts,
    handle,
    stop: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The test server for the calling test file: started before its tests, stopped after; fields filled once it is up. */
export function useTestServer(): TestServer {
  const server = {} as TestServer;
  beforeAll(async () => void Object.assign(server, await startTestServer()));
  afterAll(() => server.stop());
  return server;
}
