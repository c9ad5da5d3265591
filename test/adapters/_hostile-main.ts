// A hostile-input target server in its own process: `<runtime> test/adapters/_hostile-main.ts <kind> <port>`, kind
// `h3` (h3 1 on node:http), `h3v2` (h3 2 on node:http), `hono` (Hono: @hono/node-server on Node, Deno.serve, Bun.serve) or `raw` (the bare
// createTransferHandler). Prints "listening" when ready. A crash ends the process: the suite sees it.
import { createHostileApp } from "./_hostile-app.ts";

interface _Globals {
  Deno?: { serve(options: { port: number; hostname: string; onListen?: () => void }, handler: (r: Request) => Promise<Response>): unknown };
  Bun?: { serve(options: { port: number; hostname: string; fetch: (r: Request) => Promise<Response> }): unknown };
}
const globals = globalThis as _Globals;
const [kind, portText] = (globals.Deno ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args : process.argv.slice(2)) as [string, string];
const port = Number(portText);
const app = await createHostileApp();
const fetchOf = kind === "hono" ? (request: Request) => Promise.resolve(app.hono.fetch(request)) : app.fetch;

if (globals.Deno) {
  globals.Deno.serve({ port, hostname: "127.0.0.1", onListen: () => console.log("listening") }, fetchOf);
} else if (globals.Bun) {
  globals.Bun.serve({ port, hostname: "127.0.0.1", fetch: fetchOf });
  console.log("listening");
} else if (kind === "h3") {
  const { createServer } = await import("node:http");
  const { createApp, createRouter, defineEventHandler, toNodeListener } = await import("h3");
  const { defineTransferHandler } = await import("../../src/adapters/h3.ts");
  const { HANDLER_OPTIONS } = await import("./_hostile-app.ts");
  const router = createRouter()
    .get("/health", defineEventHandler(() => app.health()))
    .post("/api/transfer", defineTransferHandler(app.target, HANDLER_OPTIONS));
  createServer(toNodeListener(createApp().use(router))).listen(port, "127.0.0.1", () => console.log("listening"));
} else if (kind === "h3v2") {
  const { createServer } = await import("node:http");
  const { H3 } = await import("h3-v2");
  const { toNodeHandler } = await import("h3-v2/node");
  const { defineTransferHandler } = await import("../../src/adapters/h3.ts");
  const { HANDLER_OPTIONS } = await import("./_hostile-app.ts");
  const h3 = new H3().get("/health", () => app.health()).post("/api/transfer", defineTransferHandler(app.target, HANDLER_OPTIONS));
  createServer(toNodeHandler(h3)).listen(port, "127.0.0.1", () => console.log("listening"));
} else {
  const { serve } = await import("@hono/node-server");
  serve({ fetch: fetchOf, port, hostname: "127.0.0.1" }, () => console.log("listening"));
}
