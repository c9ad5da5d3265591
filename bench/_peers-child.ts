// One variant of benchmark 7 in a fresh process: uploads N small files, uploads one big file or downloads one big
// object, the way a user of that library would. Prints one JSON line (PeerMeasurement). Only the variant's own
// library is loaded, before the clock starts.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { Agent, request } from "node:http";
import { Readable } from "node:stream";
import { AwsClient } from "aws4fetch";
import { childMain, measured } from "./_harness.ts";
import { TIMING, type PeerJob, type PeerMeasurement } from "./_peers.ts";

const job = JSON.parse(process.argv[2] ?? "{}") as PeerJob;
const { s3 } = job;
const objectUrl = (key: string): string => `${s3.endpoint}/${s3.bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;

/** Runs `upload(index)` for every file with `concurrency` workers. */
async function pool(count: number, concurrency: number, upload: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await upload(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

type Mover = { put(key: string, path: string): Promise<void>; get(key: string): Promise<number> };

/** Our S3 driver fed by our fs driver; `ours-node` sends over `createNodeFetch()` instead of the global fetch. */
async function ours(): Promise<Mover> {
  const { default: s3Driver } = await import("../src/drivers/s3/index.ts");
  const { default: fsDriver } = await import("../src/drivers/fs/index.ts");
  const transport = job.variant === "ours-node" ? (await import("../src/transports/node-fetch.ts")).createNodeFetch() : undefined;
  const driver = s3Driver({ ...s3, fetch: transport });
  const local = fsDriver({ base: job.dir });
  return {
    async put(key, path) {
      await driver.setItemRaw!(key, await local.getItemRaw!(path.slice(job.dir.length + 1).replaceAll("/", ":"), { type: "stream" }), {});
    },
    async get(key) {
      return drain((await driver.getItemRaw!(key, { type: "stream" })) as ReadableStream<Uint8Array>);
    },
  };
}

async function sdk(kind: "sdk-put" | "sdk-upload"): Promise<Mover> {
  const { S3Client, PutObjectCommand, GetObjectCommand } = await import("@aws-sdk/client-s3");
  const { Upload } = await import("@aws-sdk/lib-storage");
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return {
    async put(key, path) {
      if (kind === "sdk-upload") {
        await new Upload({ client, params: { Bucket: s3.bucket, Key: key, Body: createReadStream(path) }, partSize: job.partSize, queueSize: job.partConcurrency }).done();
      } else {
        const { size } = await stat(path);
        await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: createReadStream(path), ContentLength: size }));
      }
    },
    async get(key) {
      const response = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
      let bytes = 0;
      for await (const chunk of response.Body as Readable) bytes += (chunk as Buffer).byteLength;
      return bytes;
    },
  };
}

async function unstorage(): Promise<Mover> {
  const { default: unstorageS3 } = await import("unstorage/drivers/s3");
  const driver = unstorageS3({ ...s3 });
  return {
    async put(key, path) {
      await driver.setItemRaw!(key, await readFile(path), {});
    },
    async get(key) {
      return ((await driver.getItemRaw!(key, {})) as ArrayBuffer | Uint8Array).byteLength;
    },
  };
}

/** aws4fetch as its README shows it: `client.fetch`, which hashes a byte body into the signature. */
function aws4fetch(): Mover {
  const client = new AwsClient({ ...s3, service: "s3", retries: 0 });
  return {
    async put(key, path) {
      const size = (await stat(path)).size;
      let response: Response;
      if (size <= 8 * 1024 * 1024) {
        response = await client.fetch(objectUrl(key), { method: "PUT", body: await readFile(path) });
      } else {
        // A stream cannot be hashed first: unsigned payload, with the length so that it is not sent chunked.
        const headers = { "content-length": String(size), "x-amz-content-sha256": "UNSIGNED-PAYLOAD" };
        const signed = await client.sign(objectUrl(key), { method: "PUT", headers });
        const body = Readable.toWeb(createReadStream(path)) as ReadableStream;
        response = await fetch(signed.url, { method: "PUT", headers: signed.headers, body, duplex: "half" } as RequestInit);
      }
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`aws4fetch PUT ${response.status}`);
    },
    async get(key) {
      const response = await client.fetch(objectUrl(key));
      if (!response.ok) throw new Error(`aws4fetch GET ${response.status}`);
      return drain(response.body!);
    },
  };
}

/**
 * node:http with a keep-alive agent, signed by aws4fetch's signer: small files read whole and their SHA-256 signed
 * (node:crypto, synchronous), as our driver does; big ones streamed from the file, unsigned, with their length.
 */
function nodeHttp(): Mover {
  const client = new AwsClient({ ...s3, service: "s3", retries: 0 });
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency ?? 16 });
  const send = (url: string, method: string, headers: Headers, body: Buffer | Readable | undefined, sink: (chunk: Buffer) => void): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(url, { method, agent, headers: Object.fromEntries(headers) }, (res) => {
        res.on("data", sink);
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`${method} ${res.statusCode}`))));
        res.on("error", reject);
      });
      req.on("error", reject);
      if (body instanceof Readable) body.on("error", reject).pipe(req);
      else req.end(body);
    });
  return {
    async put(key, path) {
      const size = (await stat(path)).size;
      const small = size <= 8 * 1024 * 1024;
      const bytes = small ? await readFile(path) : undefined;
      const hash = bytes ? createHash("sha256").update(bytes).digest("hex") : "UNSIGNED-PAYLOAD";
      const signed = await client.sign(objectUrl(key), { method: "PUT", headers: { "content-length": String(size), "x-amz-content-sha256": hash } });
      await send(signed.url, "PUT", signed.headers, bytes ?? createReadStream(path), () => {});
    },
    async get(key) {
      const signed = await client.sign(objectUrl(key), { method: "GET" });
      let bytes = 0;
      await send(signed.url, "GET", signed.headers, undefined, (chunk) => (bytes += chunk.byteLength));
      return bytes;
    },
  };
}

/** queued-storage itself: N local files transferred by the in-process queue (state in memory, seeded untimed). */
async function queued(): Promise<() => Promise<number>> {
  const { createQueuedStorage, memoryFlags, memoryQueue } = await import("../src/index.ts");
  const { default: s3Driver } = await import("../src/drivers/s3/index.ts");
  const { default: fsDriver } = await import("../src/drivers/fs/index.ts");
  const flags = memoryFlags();
  const keys = job.files.map((path) => path.slice(job.dir.length + 1).replaceAll("/", ":"));
  const storage = createQueuedStorage({
    local: fsDriver({ base: job.dir }),
    remote: s3Driver({ ...s3, base: job.prefix }),
    flags,
    queue: memoryQueue({ concurrency: job.concurrency ?? 16 }),
    delayed: true,
  });
  // One transfer first, untimed (connection and code warm); then every key is queued for its first time.
  await flags.begin(keys[0]!, { delayed: true });
  await storage.transferNow(keys[0]!);
  for (const key of keys) await flags.begin(key, { delayed: true });
  return async () => {
    for (const key of keys) await storage.transfer(key);
    await storage.drain();
    const done = await Promise.all(keys.map((key) => storage.status(key)));
    if (done.some((s) => s?.state !== "remote")) throw new Error("queued: not every file reached the remote");
    return job.files.length;
  };
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let bytes = 0;
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength;
  return bytes;
}

async function prepare(): Promise<() => Promise<number>> {
  if (job.variant === "queued") return queued();
  const mover = job.variant === "ours" || job.variant === "ours-node" ? await ours() : job.variant === "unstorage" ? await unstorage()
    : job.variant === "aws4fetch" ? aws4fetch() : job.variant === "node-http" ? nodeHttp() : await sdk(job.variant);
  const keyOf = (path: string): string => `${job.prefix}/${path.slice(job.dir.length + 1)}`;
  if (job.case === "download") {
    // A small object first, untimed: connection and code warm, as for uploads.
    await mover.get(job.warmKey!);
    return () => mover.get(job.key!);
  }
  // One request first, untimed, so that every side has its connection and code warm.
  await mover.put(`${job.prefix}-warm/warm.bin`, job.files[0]!);
  // BENCH7_WARM=N: N more untimed uploads first, for steady-state figures (JIT-compiled code paths on both sides).
  const warm = Number(process.env.BENCH7_WARM ?? 0);
  if (job.case === "small" && warm > 0) {
    await pool(warm, job.concurrency ?? 16, (i) => mover.put(`${job.prefix}-warm/${i}.bin`, job.files[i % job.files.length]!));
  }
  if (job.case === "upload") return async () => (await mover.put(keyOf(job.files[0]!), job.files[0]!), (await stat(job.files[0]!)).size);
  return async () => (await pool(job.files.length, job.concurrency ?? 16, (i) => mover.put(keyOf(job.files[i]!), job.files[i]!)), job.files.length);
}

async function main(): Promise<PeerMeasurement> {
  const run = await prepare();
  // TIMING: the parent reads the stand-in's CPU from here on.
  const { value: amount, ms, rssGrowth, cpuMs } = await measured(run, () => process.stdout.write(TIMING));
  return { ms, amount, rssGrowth, cpuMs };
}

childMain(main);
