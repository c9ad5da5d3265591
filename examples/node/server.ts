// A small upload server on node:http: PUT streams the body to the local disk and queues the transfer to the remote;
// GET streams the bytes back from wherever they are; /status tells where that is.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { Driver } from "unstorage";
import { createQueuedStorage, storageFlags } from "queued-storage";
import fsDriver from "queued-storage/drivers/fs";
import s3Driver from "queued-storage/drivers/s3";

const env = process.env;
const DATA = env.DATA_DIR ?? "./.data";

// The remote: S3 when S3_BUCKET is set, else a directory standing in for it.
const remote: Driver = env.S3_BUCKET
  ? s3Driver({
      endpoint: env.S3_ENDPOINT ?? "https://s3.amazonaws.com",
      bucket: env.S3_BUCKET,
      region: env.S3_REGION ?? "us-east-1",
      accessKeyId: env.S3_ACCESS_KEY_ID ?? "",
      secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? "",
    })
  : fsDriver({ base: `${DATA}/remote` });

const storage = createQueuedStorage({
  local: fsDriver({ base: `${DATA}/local` }),
  remote,
  // Transfer state on disk too: after a restart, sync() finds every transfer that did not finish.
  flags: storageFlags(fsDriver({ base: `${DATA}/state` })),
  onTransferred: ({ key }) => console.log(`transferred ${key}`),
});
await storage.sync();

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const [, route, ...rest] = url.pathname.split("/");
  const key = rest.map(decodeURIComponent).join(":");
  if (!key || (route !== "files" && route !== "status")) return send(res, 404, { error: "use /files/<key> or /status/<key>" });

  if (route === "status") return send(res, 200, await storage.status(key));
  if (req.method === "PUT") {
    await storage.setItemRaw(key, Readable.toWeb(req) as ReadableStream<Uint8Array>);
    return send(res, 201, { key, status: await storage.status(key) });
  }
  if (req.method === "GET") {
    const body = await storage.getItemRaw(key, { type: "stream" });
    if (!body) return send(res, 404, { error: "not found" });
    res.writeHead(200, { "content-type": "application/octet-stream", "x-queued-state": (await storage.status(key))?.state ?? "" });
    Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>).pipe(res);
    return;
  }
  if (req.method === "DELETE") {
    await storage.removeItem(key);
    return send(res, 204, null);
  }
  send(res, 405, { error: "use PUT, GET or DELETE" });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(body === null ? undefined : JSON.stringify(body));
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => send(res, 500, { error: (error as Error).message }));
});
const host = env.HOST ?? "127.0.0.1";
server.listen(Number(env.PORT ?? 3000), host, () => {
  const { port } = server.address() as import("node:net").AddressInfo;
  console.log(`listening on http://${host}:${port}`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    // Lets running transfers settle their state; queued ones resume on the next start through sync().
    void storage.dispose().then(() => process.exit(0));
  });
}
