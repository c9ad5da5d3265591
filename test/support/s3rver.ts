import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Driver } from "unstorage";
import s3Driver, { type S3DriverOptions } from "../../src/drivers/s3/index.ts";
import { spawnChild, stopChild } from "./children.ts";

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>`: path-style, real SigV4 (verified by the child, see s3rver-child.mjs). */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** s3rver's data directory (removed by `stop()`). */
  directory: string;
  /** The child's process id, e.g. to keep its memory apart from the test's. */
  pid: number;
  /** A full garbage collection in the child, resolved once it is done (benchmarks call it between measured runs). */
  collect(): Promise<void>;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL("./s3rver-child.mjs", import.meta.url));

/**
 * Start s3rver in a child process on a free loopback port, with a fresh data directory and one bucket.
 * Fails loudly (with the child's stderr) when it cannot start.
 */
export async function startS3rver(options: { bucket?: string } = {}): Promise<S3rverHandle> {
  const bucket = options.bucket ?? "queued-storage-test";
  const directory = await mkdtemp(join(tmpdir(), "queued-storage-s3rver-"));
  const child = spawnChild(process.execPath, ["--openssl-legacy-provider", "--expose-gc", CHILD, directory, bucket], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  // The child writes only s3rver's internal errors there: show them, they explain a 500.
  child.stderr!.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
    process.stderr.write(`[s3rver] ${text}`);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    let settled = false;
    const timer = setTimeout(() => fail(new Error("no answer within 20 s")), 20_000);
    const fail = (cause: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      void rm(directory, { recursive: true, force: true });
      reject(new Error(`s3rver (test/support/s3rver-child.mjs) could not start: ${cause.message}\n${stderr}`));
    };
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      const line = stdout.split("\n")[0];
      if (stdout.includes("\n") && line && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once("error", fail);
    void exited.then((code) => fail(new Error(`exited with code ${code}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region: "us-east-1",
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    directory,
    pid: child.pid!,
    collect: () =>
      new Promise<void>((resolve) => {
        const onData = (text: string): void => {
          if (!text.includes("gc done\n")) return;
          child.stdout!.off("data", onData);
          resolve();
        };
        child.stdout!.on("data", onData);
        child.stdin!.write("gc\n");
      }),
    async stop() {
      child.stdin!.end();
      await stopChild(child);
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Our S3 driver's options for a running stand-in, with `extra` on top. */
export function standInOptions(s3: S3rverHandle, extra: Partial<S3DriverOptions> = {}): S3DriverOptions {
  const { endpoint, bucket, region, accessKeyId, secretAccessKey } = s3;
  return { endpoint, bucket, region, accessKeyId, secretAccessKey, ...extra };
}

/** Our S3 driver over a running stand-in, to look at what really reached the remote. */
export function standInS3(s3: S3rverHandle): Driver {
  return s3Driver(standInOptions(s3));
}
