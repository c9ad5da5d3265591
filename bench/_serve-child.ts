// A file server in its own process, so its RSS is its own: `bare` (node:http + fs.createReadStream, the baseline) or
// `handler` (createFileHandler over a queued storage with the fs driver, mounted with the h3 adapter on h3 1) or
// `handler-h3v2` (the same on h3 2, as Nitro 3 runs it: srvx's Node adapter sends the web Response).
// Usage: jiti bench/_serve-child.ts <bare|handler|handler-h3v2> <dir>; prints {"port":…}; stdin lines: "reset" (RSS start and peak) or
// "rss" (prints {"start","peak"} in bytes).
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createApp, createRouter, toNodeListener } from "h3";
import { H3 } from "h3-v2";
import { toNodeHandler } from "h3-v2/node";
import { defineFileHandler } from "../src/adapters/h3.ts";
import fsDriver from "../src/drivers/fs/index.ts";
import { createQueuedStorage } from "../src/index.ts";
import { rssSampler } from "./_harness.ts";

const [mode, dir] = process.argv.slice(2) as ["bare" | "handler" | "handler-h3v2", string];
const storage = (): ReturnType<typeof createQueuedStorage> =>
  createQueuedStorage({ local: fsDriver({ base: dir }), remote: fsDriver({ base: `${dir}-remote` }) });

const server =
  mode === "handler-h3v2"
    ? createServer(toNodeHandler(new H3().all("/files/**", defineFileHandler(storage(), { route: "/files/" }))))
    : mode === "bare"
    ? createServer(async (req, res) => {
        const path = join(dir, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname.slice("/files/".length)));
        const stats = await stat(path).catch(() => null);
        if (!stats?.isFile()) return void res.writeHead(404).end();
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": stats.size });
        createReadStream(path).pipe(res);
      })
    : createServer(
        toNodeListener(
          createApp().use(
            createRouter().use(
              "/files/**",
              defineFileHandler(storage(), { route: "/files/" }),
            ),
          ),
        ),
      );

// Growth is measured from the last "reset" (a warm server), not from process start: loading code is not serving.
const rss = rssSampler(10);
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "reset") rss.reset();
  if (line === "rss") process.stdout.write(`${JSON.stringify(rss.read())}\n`);
});
process.stdin.on("end", () => process.exit(0));
server.listen(0, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`));
