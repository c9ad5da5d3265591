// One transfer in a fresh process (see measureInChild in _rss.ts). Prints one JSON line: ChildMeasurement.
import { AwsClient } from "aws4fetch";
import { createReadStream, createWriteStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { request } from "node:http";
import { pipeline } from "node:stream/promises";
import type { Driver } from "unstorage";
import unstorageS3 from "unstorage/drivers/s3";
import fsDriver from "../src/drivers/fs/index.ts";
import s3Driver from "../src/drivers/s3/index.ts";
import { createQueuedStorage, storageFlags } from "../src/index.ts";
import { multipartUpload } from "./_multipart-baseline.ts";
import { childMain, measured } from "./_harness.ts";
import { type ChildJob, type ChildMeasurement, type ChildRemote, type ChildS3 } from "./_rss.ts";

const job = JSON.parse(process.argv[2] ?? "{}") as ChildJob;

function remoteDriver(remote: ChildRemote): Driver {
  if (remote.driver === "fs") return fsDriver({ base: remote.base });
  if (remote.driver === "s3") return s3Driver(remote.s3);
  return unstorageS3({ ...remote.s3 }) as Driver;
}

/** Copy with Node streams and fsync the result: the durability the fs driver gives, without the library. */
async function copyFs(source: string, target: string): Promise<void> {
  await pipeline(createReadStream(source), createWriteStream(target));
  const handle = await open(target, "r+");
  await handle.sync();
  await handle.close();
}

/** One PutObject streamed from the file with its Content-Length (UNSIGNED-PAYLOAD): the least work S3 allows. */
async function putS3(source: string, s3: ChildS3, key: string): Promise<void> {
  const size = (await stat(source)).size;
  const client = new AwsClient({ ...s3, service: "s3" });
  const url = `${s3.endpoint}/${s3.bucket}/${key}`;
  const signed = await client.sign(url, { method: "PUT", headers: { "content-length": String(size) } });
  await new Promise<void>((resolve, reject) => {
    const req = request(url, { method: "PUT", headers: Object.fromEntries(signed.headers) }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (text: string) => (body += text));
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${res.statusCode}: ${body}`))));
    });
    req.on("error", reject);
    createReadStream(source).on("error", reject).pipe(req);
  });
}

async function settled(path: string, size: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await stat(path).catch(() => null))?.size !== size) {
    if (Date.now() > deadline) throw new Error(`${path} did not reach ${size} bytes`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function main(): Promise<ChildMeasurement> {
  let prepare: () => Promise<() => Promise<number>>;
  if (job.kind === "copy-fs") {
    prepare = async () => async () => (await copyFs(job.source, job.target), (await stat(job.target)).size);
  } else if (job.kind === "put-s3") {
    prepare = async () => async () => (await putS3(job.source, job.s3, job.key), (await stat(job.source)).size);
  } else if (job.kind === "multipart-s3") {
    prepare = async () => () => multipartUpload(job.source, job.s3, job.key, job.partSize, job.inFlight);
  } else {
    prepare = async () => {
      const storage = createQueuedStorage({
        local: fsDriver({ base: job.local }),
        remote: remoteDriver(job.remote),
        flags: storageFlags(fsDriver({ base: job.state })),
        delayed: true,
      });
      const size = (await storage.getMeta(job.key)).size as number;
      return async () => {
        await storage.transfer(job.key);
        await storage.drain();
        const status = await storage.status(job.key);
        if (status?.state !== "remote") throw new Error(`transfer did not finish: ${JSON.stringify(status)}`);
        return size;
      };
    };
  }
  const run = await prepare();
  // Node loads its fetch (undici) on first use: load it now, so that no side's RSS counts the code.
  await fetch("http://127.0.0.1:9/").catch(() => {});
  const { value: bytes, ms, rssStart, rssPeak, rssGrowth, cpuMs } = await measured(async () => {
    const bytes = await run();
    if (job.settle) await settled(job.settle.path, job.settle.size);
    return bytes;
  });
  return { ms, bytes, rssStart, rssPeak, rssGrowth, cpuMs };
}

childMain(main);
