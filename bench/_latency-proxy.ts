import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface LatencyProxyOptions {
  /** Where requests go, e.g. the s3rver endpoint `http://127.0.0.1:1234`. */
  target: string;
  /** Added to each direction: 20 ms makes a 40 ms round trip. */
  oneWayMs: number;
  /** Shared cap of each direction (a link, not a per-request limit), e.g. 12.5e6 for 100 Mbit/s. */
  bytesPerSecond: number;
}

export interface LatencyProxy {
  /** Use as the S3 endpoint. */
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL("./_latency-proxy-child.ts", import.meta.url));

/**
 * A loopback HTTP proxy that makes the S3 stand-in feel far away: every message is delayed by `oneWayMs` and
 * paced to `bytesPerSecond` per direction. It runs in its own process, so its pacing timers and copies never
 * compete with the event loop whose latency is being measured.
 */
export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  const child = spawn(
    process.execPath,
    ["--import", "jiti/register", CHILD, options.target, String(options.oneWayMs), String(options.bytesPerSecond)],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      out += text;
      if (out.includes("\n")) resolve((JSON.parse(out.split("\n")[0]!) as { port: number }).port);
    });
    void exited.then(() => reject(new Error("bench/_latency-proxy-child.ts exited before listening")));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.stdin.end();
      child.kill("SIGTERM");
      await exited;
    },
  };
}
