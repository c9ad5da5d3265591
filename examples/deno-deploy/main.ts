// queued-storage on Deno (Deno Deploy or any Deno host) with Deno.serve: PUT /files/<key> uploads, GET reads,
// and with QStash configured, QStash calls POST /_queued-storage/transfer to run each transfer.
import type { Driver } from "unstorage";
import { createQueuedStorage, storageFlags, type FlagStore, type TransferQueue } from "queued-storage";
import fsDriver from "queued-storage/drivers/fs";
import s3Driver from "queued-storage/drivers/s3";
import { createTransferHandler, qstashQueue } from "queued-storage/qstash";
import { upstashFlags } from "queued-storage/upstash";

const env = (name: string): string | undefined => Deno.env.get(name) || undefined;
const TRANSFER_PATH = "/_queued-storage/transfer";

/** An S3 bucket from `<PREFIX>_BUCKET`, `_ENDPOINT`, `_REGION`, `_ACCESS_KEY_ID`, `_SECRET_ACCESS_KEY`. */
function bucket(prefix: string): Driver | undefined {
  const name = env(`${prefix}_BUCKET`);
  if (!name) return undefined;
  return s3Driver({
    bucket: name,
    endpoint: env(`${prefix}_ENDPOINT`) ?? "https://s3.amazonaws.com",
    region: env(`${prefix}_REGION`) ?? "us-east-1",
    accessKeyId: env(`${prefix}_ACCESS_KEY_ID`) ?? "",
    secretAccessKey: env(`${prefix}_SECRET_ACCESS_KEY`) ?? "",
  });
}

const data = env("DATA_DIR") ?? "./.data";
// Local tier: a nearby bucket (LOCAL_*) on Deno Deploy, whose disk does not outlive an isolate; a directory elsewhere.
const local = bucket("LOCAL") ?? fsDriver({ base: `${data}/local` });
// Remote tier: the archive bucket (S3_*), or a directory to try things out.
const remote = bucket("S3") ?? fsDriver({ base: `${data}/remote` });
// Shared state and a durable queue once Upstash is configured; otherwise state on disk and the in-process queue.
const flags: FlagStore = env("UPSTASH_REDIS_REST_URL") ? upstashFlags() : storageFlags(fsDriver({ base: `${data}/state` }));
const webhook = env("PUBLIC_URL") ? new URL(TRANSFER_PATH, env("PUBLIC_URL")).toString() : undefined;
const queue: TransferQueue | undefined = env("QSTASH_TOKEN") && webhook ? qstashQueue({ url: webhook }) : undefined;

const storage = createQueuedStorage({ local, remote, flags, queue });
// QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY come from env.
const transferHandler = queue ? createTransferHandler(storage, { url: webhook }) : undefined;
if (!queue) await storage.sync(); // in-process queue: pick up transfers a restart interrupted

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === TRANSFER_PATH && transferHandler) return transferHandler(request);
  const [, route, ...rest] = url.pathname.split("/");
  const key = rest.map(decodeURIComponent).join(":");
  if (!key || route !== "files") return Response.json({ error: "use /files/<key>" }, { status: 404 });
  if (request.method === "PUT" && request.body) {
    await storage.setItemRaw(key, request.body);
    return Response.json({ key, status: await storage.status(key) }, { status: 201 });
  }
  if (request.method === "GET") {
    const [body, status] = await Promise.all([storage.getItemRaw(key, { type: "stream" }), storage.status(key)]);
    if (!body) return Response.json({ error: "not found" }, { status: 404 });
    return new Response(body as ReadableStream<Uint8Array>, { headers: { "x-queued-state": status?.state ?? "" } });
  }
  return Response.json({ error: "use PUT or GET" }, { status: 405 });
}

Deno.serve({ port: Number(env("PORT") ?? 8000), hostname: env("HOST") ?? "127.0.0.1" }, handle);
