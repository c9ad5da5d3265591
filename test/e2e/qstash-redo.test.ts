import { Client } from "@upstash/qstash";
import memory from "unstorage/drivers/memory";
import { createStorage } from "unstorage";
import { afterEach, describe, expect, it } from "vitest";
import { createQueuedStorage, memoryFlags } from "../../src/index.ts";
import { createTransferHandler, qstashQueue } from "../../src/queues/qstash.ts";
import { serveWebhook } from "../support/_qstash-webhook.ts";
import { startQStash } from "../support/qstash-server.ts";

// Issue 20, class 4: `transfer(key)` while the first delivery has set `remote` but not yet answered QStash. The redo
// must not be swallowed by deduplication against that delivery, whose message QStash still holds.

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("a redo through QStash (issue 20)", () => {
  it("transfer(key) during a delivery that settled but has not answered is published with its own id and runs", async () => {
    const qstash = await startQStash();
    let answer: (() => void) | undefined;
    let settledButUnanswered: (() => void) | undefined;
    const unanswered = new Promise<void>((resolve) => (settledButUnanswered = resolve));
    let deliveries = 0;
    let run: ((request: Request) => Promise<Response>) | undefined;
    const hook = await serveWebhook(async (request) => {
      const response = await run!(request);
      if (++deliveries === 1) {
        // The first delivery has done its work (the key is `remote`); its answer to QStash is late.
        settledButUnanswered!();
        await new Promise<void>((resolve) => (answer = resolve));
      }
      return response;
    });
    const url = `${hook.origin}/api/transfer`;
    const localMemory = memory();
    const remoteMemory = memory();
    const client = new Client({ baseUrl: qstash.url, token: qstash.token, enableTelemetry: false, retry: false });
    const storage = createQueuedStorage({
      local: localMemory,
      remote: remoteMemory,
      queue: qstashQueue({ client, url, retries: 0 }),
      flags: memoryFlags(),
    });
    run = createTransferHandler(storage, { currentSigningKey: qstash.currentSigningKey, nextSigningKey: qstash.nextSigningKey, url });
    cleanups.push(() => qstash.stop(), () => hook.stop(), async () => storage.dispose());

    await storage.setItem("k", "v1");
    await unanswered;
    expect(await storage.status("k")).toMatchObject({ state: "remote" });
    // The remote object is lost behind our back; the operator asks for the transfer again.
    await createStorage({ driver: remoteMemory }).removeItem("k");
    const redo = await storage.transfer("k");
    expect(redo).toMatchObject({ state: "queued" });
    answer!();
    await qstash.idle();

    const published = qstash.published.filter((message) => message.destination === url);
    expect(published).toHaveLength(2);
    expect(published.map((message) => message.deduplicated)).toEqual([false, false]);
    expect(new Set(published.map((message) => message.headers["upstash-deduplication-id"])).size).toBe(2);
    expect(await storage.status("k")).toMatchObject({ state: "remote" });
    expect(await createStorage({ driver: remoteMemory }).getItem("k")).toBe("v1");
  });
});
