// A Cloudflare Worker: uploads land in an R2 bucket (the local tier, in the same account), QStash queues the
// transfer to S3 (the remote), the transfer webhook runs here too, and Upstash Redis holds the per-key state.
// Offline (`wrangler dev` with no secrets): whatever is unset falls back to the embedded default, one warning names
// it: no QStash → the in-process queue (the transfer runs in the isolate, kept alive by waitUntil) and no webhook;
// no Upstash → state in the isolate's memory; no S3 keys → an in-memory remote. Each lives as long as the isolate.
import type { R2Bucket } from "@cloudflare/workers-types";
import { Client } from "@upstash/qstash";
// The Cloudflare entry of @upstash/redis: the default one sets `cache: "no-store"` on fetch (redis-js #338).
import { Redis } from "@upstash/redis/cloudflare";
import r2Driver from "unstorage/drivers/cloudflare-r2-binding";
import memoryDriver from "unstorage/drivers/memory";
import { createQueuedStorage, type QueuedStorage } from "queued-storage";
import s3Driver from "queued-storage/drivers/s3";
import { createTransferHandler, qstashQueue } from "queued-storage/qstash";
import { upstashFlags } from "queued-storage/upstash";

export interface Env {
  /** R2 bucket binding: the local tier. */
  UPLOADS: R2Bucket;
  /** Public origin of this Worker, e.g. https://uploads.example.workers.dev (QStash calls the webhook there). */
  PUBLIC_URL: string;
  S3_ENDPOINT: string;
  S3_BUCKET: string;
  S3_REGION: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  QSTASH_TOKEN?: string;
  /** Optional: QStash region URL, e.g. https://qstash-eu-central-1.upstash.io. */
  QSTASH_URL?: string;
  QSTASH_CURRENT_SIGNING_KEY?: string;
  QSTASH_NEXT_SIGNING_KEY?: string;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
}

const TRANSFER_PATH = "/_queued-storage/transfer";

interface App {
  storage: QueuedStorage;
  /** Absent offline (no QStash): transfers run in the isolate. */
  transferHandler?: (request: Request) => Promise<Response>;
}

// One storage per isolate. Workers have no process.env: every secret comes from the env argument.
let app: App | undefined;
function setup(env: Env): App {
  if (app) return app;
  const webhook = new URL(TRANSFER_PATH, env.PUBLIC_URL).toString();
  const missing = (...names: Array<keyof Env>): Array<keyof Env> => names.filter((name) => !env[name]);
  const offline = {
    queue: missing("QSTASH_TOKEN", "QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY"),
    flags: missing("UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"),
    remote: missing("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"),
  };
  const unset = [...offline.queue, ...offline.flags, ...offline.remote];
  if (unset.length) {
    console.warn(`[queued-storage] not set: ${unset.join(", ")}; using the in-isolate default for ${[offline.queue.length && "the queue", offline.flags.length && "the state", offline.remote.length && "the remote (memory)"].filter(Boolean).join(", ")}`);
  }
  const storage = createQueuedStorage({
    local: r2Driver({ binding: env.UPLOADS as never }),
    remote: offline.remote.length
      ? memoryDriver()
      : s3Driver({
          endpoint: env.S3_ENDPOINT,
          bucket: env.S3_BUCKET,
          region: env.S3_REGION,
          accessKeyId: env.S3_ACCESS_KEY_ID!,
          secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
        }),
    queue: offline.queue.length ? undefined : qstashQueue({ client: new Client({ token: env.QSTASH_TOKEN, baseUrl: env.QSTASH_URL }), url: webhook }),
    flags: offline.flags.length ? undefined : upstashFlags({ redis: new Redis({ url: env.UPSTASH_REDIS_REST_URL!, token: env.UPSTASH_REDIS_REST_TOKEN! }) }),
  });
  const transferHandler = offline.queue.length
    ? undefined
    : createTransferHandler(storage, { currentSigningKey: env.QSTASH_CURRENT_SIGNING_KEY!, nextSigningKey: env.QSTASH_NEXT_SIGNING_KEY!, url: webhook });
  return (app = { storage, transferHandler });
}

export default {
  async fetch(request: Request, env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }): Promise<Response> {
    const { storage, transferHandler } = setup(env);
    const url = new URL(request.url);
    if (url.pathname === TRANSFER_PATH) {
      return transferHandler ? transferHandler(request) : Response.json({ error: "QStash is not configured" }, { status: 404 });
    }

    const [, route, ...rest] = url.pathname.split("/");
    const key = rest.map(decodeURIComponent).join(":");
    if (!key || route !== "files") return Response.json({ error: "use /files/<key>" }, { status: 404 });
    if (request.method === "PUT") {
      if (!request.body) return Response.json({ error: "empty body" }, { status: 400 });
      // R2 needs the length of a streamed body: a PUT with Content-Length gives it.
      await storage.setItemRaw(key, request.body);
      // Offline, the transfer runs in this isolate: keep it alive until the queue is idle.
      if (!transferHandler) ctx.waitUntil(storage.drain());
      return Response.json({ key, status: await storage.status(key) }, { status: 201 });
    }
    if (request.method === "GET") {
      const [body, status] = await Promise.all([storage.getItemRaw(key, { type: "stream" }), storage.status(key)]);
      if (!body) return Response.json({ error: "not found" }, { status: 404 });
      return new Response(body as ReadableStream, { headers: { "x-queued-state": status?.state ?? "" } });
    }
    return Response.json({ error: "use PUT or GET" }, { status: 405 });
  },
};
