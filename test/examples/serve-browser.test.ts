import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/browser.ts";
import { spawnChild, stopChild } from "../support/children.ts";
import { startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { ROOT } from "./_aliases.ts";
import { encodePng, readWebm } from "./_media.ts";

// examples/serve/server.ts started as its README says, looked at by Chromium (test/support/browser.ts: the system's,
// else @sparticuz/chromium's from npm; headless, driven by playwright-core): the page shows an uploaded image and seeks in an uploaded video, before and after the transfer
// to S3 (s3rver), and through the file route with REDIRECT=1. Screenshots land in .tmp/artifacts/.

const ARTIFACTS = join(ROOT, ".tmp/artifacts");
const TOKEN = "browser-test-token";
const SEEK_TO = 12.5;

interface Example {
  origin: string;
  output(): string;
  stop(): Promise<void>;
}

async function startExample(env: Record<string, string>): Promise<Example> {
  const child: ChildProcess = spawnChild(join(ROOT, "node_modules/.bin/jiti"), [join(ROOT, "examples/serve/server.ts")], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", JITI_TSCONFIG_PATHS: "1", UPLOAD_TOKEN: TOKEN, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (text: string) => (output += text));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (output += text));
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`examples/serve did not start within 30 s:\n${output}`)), 30_000);
    child.stdout!.on("data", () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once("exit", (code) => reject(new Error(`examples/serve exited with ${code}:\n${output}`)));
  });
  return {
    origin,
    output: () => output,
    stop: () => stopChild(child),
  };
}

interface Seen {
  url: string;
  status: number;
  range?: string;
}

interface Rendered {
  imageSrc: string;
  naturalWidth: number;
  naturalHeight: number;
  videoSrc: string;
  duration: number;
  currentTime: number;
  readyState: number;
  /** Every response the page got, with the Range header of its request. */
  seen: Seen[];
}

/** Load the page, wait for the image, seek the video and wait until it has the frame there; screenshot it. */
async function look(browser: Browser, url: string, screenshot: string): Promise<Rendered> {
  const page: Page = await browser.newPage({ viewport: { width: 720, height: 640 } });
  const seen: Seen[] = [];
  const pending: Promise<void>[] = [];
  page.on("response", (response) => {
    // allHeaders(): the headers really sent (headers() may be the provisional ones, without Range after a redirect).
    pending.push(
      response.request().allHeaders().then((headers) => {
        seen.push({ url: response.url(), status: response.status(), ...(headers["range"] ? { range: headers["range"] } : {}) });
      }),
    );
  });
  try {
    // On loopback the whole video would arrive in the first response before the seek: at 2 MB/s (a 10 MB file takes
    // 5 s) the seek to 12.5 s has to be a new Range request from the middle, as on a real network.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: 2_000_000, uploadThroughput: -1 });
    await page.goto(url);
    await page.waitForFunction(() => {
      const image = document.getElementById("image") as HTMLImageElement;
      return image.complete && image.naturalWidth > 0;
    }, undefined, { timeout: 20_000 });
    const video = await page.evaluate(async (to) => {
      const v = document.getElementById("video") as HTMLVideoElement;
      const event = (name: string): Promise<void> =>
        new Promise((resolve, reject) => {
          v.addEventListener(name, () => resolve(), { once: true });
          v.addEventListener("error", () => reject(new Error(`video error ${v.error?.code}: ${v.error?.message}`)), { once: true });
        });
      if (v.readyState < 1) await event("loadedmetadata");
      const seeked = event("seeked");
      v.currentTime = to;
      await seeked;
      if (v.readyState < 2) await event("loadeddata");
      return { duration: v.duration, currentTime: v.currentTime, readyState: v.readyState, src: v.currentSrc };
    }, SEEK_TO);
    const image = await page.evaluate(() => {
      const i = document.getElementById("image") as HTMLImageElement;
      return { src: i.currentSrc, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight };
    });
    await page.screenshot({ path: join(ARTIFACTS, screenshot) });
    await Promise.all(pending);
    return {
      imageSrc: image.src,
      naturalWidth: image.naturalWidth,
      naturalHeight: image.naturalHeight,
      videoSrc: video.src,
      duration: video.duration,
      currentTime: video.currentTime,
      readyState: video.readyState,
      seen,
    };
  } finally {
    await page.close();
  }
}

describe("examples/serve in headless Chromium", () => {
  let s3: S3rverHandle;
  let browser: Browser;
  let dir: string;
  let png: Uint8Array;
  let webm: Uint8Array;
  const examples: Example[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "queued-storage-serve-browser-"));
    await mkdir(ARTIFACTS, { recursive: true });
    [s3, webm, browser] = await Promise.all([startS3rver({ bucket: "serve-browser" }), readWebm(), launchChromium()]);
    png = encodePng(96, 64);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const example of examples) await example.stop();
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function example(name: string, env: Record<string, string> = {}): Promise<Example> {
    const started = await startExample({
      DATA_DIR: join(dir, name),
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3.bucket,
      S3_REGION: s3.region,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      ...env,
    });
    examples.push(started);
    const upload = async (path: string, body: Uint8Array, type: string): Promise<void> => {
      const response = await fetch(`${started.origin}${path}`, {
        method: "PUT",
        body: body as Uint8Array<ArrayBuffer>,
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": type },
      });
      expect(response.status, `${await response.clone().text()}\n${started.output()}`).toBe(201);
    };
    await upload("/files/media/image.png", png, "image/png");
    await upload("/files/media/clip.webm", webm, "video/webm");
    return started;
  }

  const transfer = async (origin: string): Promise<void> => {
    for (const key of ["media/image.png", "media/clip.webm"]) {
      const response = await fetch(`${origin}/transfer/${key}`, { method: "POST" });
      expect(((await response.json()) as { outcome: string }).outcome).toBe("transferred");
    }
  };

  /** What every phase must show: the image decoded at its size, the video seeked to SEEK_TO with a frame there. */
  const expectRendered = (rendered: Rendered): void => {
    expect([rendered.naturalWidth, rendered.naturalHeight]).toEqual([96, 64]);
    expect(rendered.duration).toBeCloseTo(20, 0);
    expect(Math.abs(rendered.currentTime - SEEK_TO)).toBeLessThan(0.05);
    expect(rendered.readyState).toBeGreaterThanOrEqual(2);
  };
  const videoResponses = (rendered: Rendered, origin: string): Seen[] => rendered.seen.filter((s) => s.url.startsWith(origin) && s.url.includes("clip.webm"));

  it("url(key): the local route before the transfer, the presigned S3 URL after; the video seeks by Range requests in both", async () => {
    const app = await example("plain");
    const local = await look(browser, `${app.origin}/`, "serve-1-local.png");
    expectRendered(local);
    expect(local.imageSrc).toBe(`${app.origin}/files/media/image.png`);
    const fromApp = videoResponses(local, app.origin);
    expect(fromApp.length, JSON.stringify(local.seen)).toBeGreaterThan(0);
    expect(fromApp.every((s) => s.status === 206 && s.range?.startsWith("bytes="))).toBe(true);
    // The seek asked for bytes past the beginning: a Range request served from the middle of the local file.
    expect(fromApp.some((s) => !s.range!.startsWith("bytes=0-")), JSON.stringify(fromApp)).toBe(true);

    await transfer(app.origin);
    const remote = await look(browser, `${app.origin}/`, "serve-2-remote.png");
    expectRendered(remote);
    expect(remote.imageSrc.startsWith(`${s3.endpoint}/`)).toBe(true);
    expect(new URL(remote.imageSrc).searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    const fromS3 = videoResponses(remote, s3.endpoint);
    expect(fromS3.length, JSON.stringify(remote.seen)).toBeGreaterThan(0);
    expect(fromS3.every((s) => s.status === 206)).toBe(true);
    expect(videoResponses(remote, app.origin)).toEqual([]); // the bytes did not pass through the app
  }, 120_000);

  it("with REDIRECT=1 the file route streams while local, then redirects to S3, where the video seeks", async () => {
    const app = await example("redirect", { REDIRECT: "1" });
    const local = await look(browser, `${app.origin}/?via=route`, "serve-3-redirect-local.png");
    expectRendered(local);
    expect(videoResponses(local, app.origin).every((s) => s.status === 206), JSON.stringify(local.seen)).toBe(true);

    await transfer(app.origin);
    const remote = await look(browser, `${app.origin}/?via=route`, "serve-4-redirect-remote.png");
    expectRendered(remote);
    // currentSrc stays the route's URL; the redirect led to s3rver, which served the image.
    expect(remote.imageSrc).toBe(`${app.origin}/files/media/image.png`);
    expect(remote.seen.some((s) => s.url.startsWith(`${s3.endpoint}/`) && s.url.includes("image.png") && s.status === 200)).toBe(true);
    const fromApp = remote.seen.filter((s) => s.url.startsWith(`${app.origin}/files/`));
    expect(fromApp.length).toBeGreaterThan(0);
    expect(fromApp.every((s) => s.status === 302), JSON.stringify(fromApp)).toBe(true);
    const fromS3 = videoResponses(remote, s3.endpoint);
    expect(fromS3.some((s) => s.status === 206 && s.range !== undefined && !s.range.startsWith("bytes=0-")), JSON.stringify(fromS3)).toBe(true);
  }, 120_000);
});
