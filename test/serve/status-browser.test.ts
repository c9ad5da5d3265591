import { serve, type ServerType } from "@hono/node-server";
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import memoryDriver from "unstorage/drivers/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createQueuedStorage, createStatusHandler, defineTask, memoryQueue, transfer, type QueuedStorage } from "../../src/index.ts";
import { launchChromium } from "../support/browser.ts";

// The status page in headless Chromium (playwright-core): a forced failure shows with its error, Retry (a real form
// POST with the page's token, behind Basic auth) turns the key remote. Screenshots land in test/.artifacts/.

const ARTIFACTS = join(import.meta.dirname, "../.artifacts");
const ROUTE = "/_queued-storage";
const HOSTILE = "<img src=x onerror=alert(1)>";
const USER = { username: "ops", password: "s3cret" };

let browser: Browser;
let server: ServerType;
let origin: string;
let storage: QueuedStorage;
const broken = { on: true };

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  storage = createQueuedStorage({
    local: memoryDriver(),
    remote: memoryDriver(),
    localUrl: "/files/",
    task: defineTask({
      name: "transfer",
      run: (ctx) => (broken.on ? Promise.reject(new Error("S3 answered 503 Slow Down (dlqId 1722_demo)")) : transfer.run(ctx)),
    }),
    queue: memoryQueue({ retries: 0, retryDelay: 1 }),
  });
  const expected = `Basic ${btoa(`${USER.username}:${USER.password}`)}`;
  const status = createStatusHandler(storage, {
    route: ROUTE,
    authorize: (request) =>
      request.headers.get("authorization") === expected ||
      new Response("Unauthorized", { status: 401, headers: { "www-authenticate": 'Basic realm="queued-storage"' } }),
  });
  server = serve({ fetch: status, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => server.once("listening", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await storage?.dispose();
});

describe("the status page in Chromium", () => {
  it("shows a forced failure with its error; clicking Retry turns the key remote", { timeout: 120_000 }, async () => {
    for (const key of ["reports:2026-q3.pdf", "avatars:7.png", HOSTILE]) await storage.setItem(key, "bytes");
    await storage.drain();
    const context = await browser.newContext({ httpCredentials: USER, viewport: { width: 1100, height: 700 } });
    const page = await context.newPage();
    let alerted = false;
    page.on("dialog", (dialog) => {
      alerted = true;
      void dialog.dismiss();
    });
    await page.goto(`${origin}${ROUTE}?state=failed`);
    const row = page.locator("tr", { hasText: "reports:2026-q3.pdf" });
    await expect.poll(() => row.textContent()).toContain("S3 answered 503 Slow Down");
    expect(await row.textContent()).toContain("DLQ 1722_demo");
    expect(await page.locator("code", { hasText: HOSTILE }).count()).toBeGreaterThan(0); // rendered as text
    expect(await page.locator("img").count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "status-failed.png"), fullPage: true });

    broken.on = false;
    await row.getByRole("button", { name: "Retry" }).click();
    await page.waitForURL(/done=/);
    expect(await page.locator(".notice").textContent()).toContain("Queued reports:2026-q3.pdf again");
    await storage.drain();
    expect(await storage.status("reports:2026-q3.pdf")).toMatchObject({ state: "remote" });

    await page.goto(`${origin}${ROUTE}?key=reports:2026-q3.pdf`);
    expect(await page.locator("dd .badge").textContent()).toBe("remote");
    expect(await page.locator("dt:has-text('Tier') + dd").textContent()).toBe("remote");
    await page.screenshot({ path: join(ARTIFACTS, "status-key-remote.png"), fullPage: true });

    // Without credentials: 401, nothing shown.
    const anonymous = await browser.newPage();
    expect((await anonymous.goto(`${origin}${ROUTE}`))!.status()).toBe(401);
    await anonymous.close();
    expect(alerted).toBe(false);
    await context.close();
  });

  it("refreshes itself while JavaScript runs: the counts follow without a reload", { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ httpCredentials: USER });
    const page = await context.newPage();
    await page.goto(`${origin}${ROUTE}`);
    const failed = page.locator(".card.failed b");
    const before = Number(await failed.textContent());
    expect(before).toBeGreaterThan(0);
    await storage.retry({ state: "failed" });
    await storage.drain();
    await expect.poll(async () => Number(await failed.textContent()), { timeout: 15_000 }).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "status-overview.png"), fullPage: true });
    await context.close();
  });
});
