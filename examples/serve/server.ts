// Serving uploads: a page that shows an image and a video through url(key), the file route (createFileHandler via the
// h3 adapter) with ETag/304/Range and PUT uploads, and a button-less "transfer now" endpoint to watch url(key) move
// from the local route to the remote (S3 presigned) URL.
import { createServer } from "node:http";
import { createApp, createRouter, defineEventHandler, getRouterParam, setResponseHeader, toNodeListener } from "h3";
import type { Driver } from "unstorage";
import { createQueuedStorage } from "queued-storage";
import fsDriver from "queued-storage/drivers/fs";
import s3Driver from "queued-storage/drivers/s3";
import { defineFileHandler, expectContinue } from "queued-storage/h3";

const env = process.env;
const DATA = env.DATA_DIR ?? "./.data/serve";
const IMAGE = "media:image.png";
const VIDEO = "media:clip.webm";
const MAX_BYTES = 64 * 1024 * 1024;

// The remote: S3 when S3_BUCKET is set (url(key) then answers presigned URLs), else a directory served by the same route.
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
  // Nothing moves until POST /transfer/<key>, so both phases can be looked at.
  delayed: true,
  localUrl: "/files/",
  // A directory has no URL of its own: the file route serves it from there too.
  remoteUrl: env.S3_BUCKET ? undefined : "/files/",
});

const files = defineFileHandler(storage, {
  route: "/files/",
  // REDIRECT=1: once a key is remote, /files/<key> answers 302 to the presigned URL instead of streaming it.
  redirect: env.REDIRECT === "1",
  upload: { maxBytes: MAX_BYTES, types: ["image/*", "video/*"] },
  // Writes need UPLOAD_TOKEN (unset: nobody may write); reads are public.
  authorize: (request, _key, operation) =>
    operation === "read" || (!!env.UPLOAD_TOKEN && request.headers.get("authorization") === `Bearer ${env.UPLOAD_TOKEN}`),
});

const router = createRouter()
  .get(
    "/",
    defineEventHandler(async (event) => {
      // ?via=route: always the file route (which redirects once remote when REDIRECT=1); default: url(key).
      const viaRoute = new URL(event.path, "http://x").searchParams.get("via") === "route";
      const urlOf = async (key: string): Promise<string> => (viaRoute ? `/files/${key.replaceAll(":", "/")}` : storage.url(key));
      const [image, video] = await Promise.all([urlOf(IMAGE), urlOf(VIDEO)]);
      const states = await Promise.all([storage.status(IMAGE), storage.status(VIDEO)]);
      setResponseHeader(event, "content-type", "text/html; charset=utf-8");
      return page({ image, video, states: states.map((s) => s?.state ?? "none") });
    }),
  )
  .post(
    "/transfer/**:key",
    defineEventHandler(async (event) => {
      const key = getRouterParam(event, "key")!.replaceAll("/", ":");
      return { key, outcome: await storage.transferNow(key), url: await storage.url(key) };
    }),
  )
  .use("/files/**", files);

const server = createServer(toNodeListener(createApp().use(router)));
// `Expect: 100-continue` (curl does it for large bodies): an upload over MAX_BYTES gets 413 before it is sent.
expectContinue(server, { maxBytes: MAX_BYTES, route: "/files/" });
server.listen(Number(env.PORT ?? 3000), "127.0.0.1", () => {
  const { port } = server.address() as { port: number };
  console.log(`listening on http://127.0.0.1:${port}`);
});

function page({ image, video, states }: { image: string; video: string; states: string[] }): string {
  const esc = (text: string): string => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html><head><title>queued-storage: serving</title>
<style>body { font: 14px system-ui, sans-serif; margin: 16px } img { width: 256px; image-rendering: pixelated; border: 1px solid #888 }
code { font-size: 11px; word-break: break-all } video { width: 320px; background: #000 }</style></head>
<body>
<h1>queued-storage: serving</h1>
<p>image: <b id="image-state">${esc(states[0]!)}</b> <code id="image-url">${esc(image)}</code></p>
<img id="image" src="${esc(image)}" alt="uploaded image">
<p>video: <b id="video-state">${esc(states[1]!)}</b> <code id="video-url">${esc(video)}</code></p>
<video id="video" src="${esc(video)}" muted preload="metadata" controls></video>
</body></html>`;
}
