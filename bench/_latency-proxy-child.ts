// The latency proxy's process (see _latency-proxy.ts). Usage: _latency-proxy-child.ts <target> <oneWayMs> <bytesPerSecond>
import { Agent, createServer, request, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { Writable } from "node:stream";

const [target = "", oneWayArg = "20", bpsArg = "12500000"] = process.argv.slice(2);
const upstream = new URL(target);
const oneWayMs = Number(oneWayArg);
const bytesPerSecond = Number(bpsArg);
const PIECE = 16 * 1024;
const HEADER_BYTES = 400;

/** One direction of the link: bytes leave one after the other at `bytesPerSecond`, whoever sends them. */
class Link {
  private freeAt = 0;
  /** When `bytes` sent now arrive at the other end. */
  arrival(bytes: number): number {
    this.freeAt = Math.max(performance.now(), this.freeAt) + (bytes / bytesPerSecond) * 1000;
    return this.freeAt + oneWayMs;
  }
}
const up = new Link();
const down = new Link();

/** Actions of one message delivered in order, each not before its arrival time. */
class Channel {
  private tail: Promise<void> = Promise.resolve();
  queued = 0;
  constructor(private readonly link: Link) {}
  send(bytes: number, deliver: () => void | Promise<void>): void {
    const at = this.link.arrival(bytes);
    this.queued += bytes;
    this.tail = this.tail.then(async () => {
      const wait = at - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      this.queued -= bytes;
      await deliver();
    });
  }
}

/** Pace a body through a channel into `sink`, pausing the source while much is in flight. */
function relay(source: IncomingMessage, sink: Writable, channel: Channel): void {
  source.on("data", (chunk: Buffer) => {
    for (let offset = 0; offset < chunk.length; offset += PIECE) {
      const piece = chunk.subarray(offset, offset + PIECE);
      channel.send(piece.length, () => {
        if (!sink.write(piece)) return new Promise<void>((resolve) => sink.once("drain", () => resolve()));
      });
    }
    if (channel.queued > 4 * 1024 * 1024) {
      source.pause();
      const check = setInterval(() => {
        if (channel.queued < 1024 * 1024) {
          clearInterval(check);
          source.resume();
        }
      }, 2);
    }
  });
  source.on("end", () => channel.send(0, () => void sink.end()));
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const server = createServer((req, res) => {
  const outbound = new Channel(up);
  const inbound = new Channel(down);
  const forward = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
    (answer) => {
      const headers: OutgoingHttpHeaders = { ...answer.headers };
      delete headers.connection;
      delete headers["keep-alive"];
      inbound.send(HEADER_BYTES, () => void res.writeHead(answer.statusCode ?? 502, headers));
      relay(answer, res, inbound);
    },
  );
  forward.on("error", (error) => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end(`latency proxy: ${error.message}`);
  });
  req.on("error", () => forward.destroy());
  res.on("close", () => {
    if (!res.writableFinished) forward.destroy();
  });
  outbound.send(HEADER_BYTES, () => forward.flushHeaders());
  relay(req, forward, outbound);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
