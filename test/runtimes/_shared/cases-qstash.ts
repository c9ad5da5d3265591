import memoryDriver from "unstorage/drivers/memory";
import { createQueuedStorage, type QueuedStorage } from "../../../src/index.ts";
import { createTransferHandler } from "../../../src/queues/qstash.ts";
import { equal, ok } from "./assert.ts";
import { captureQueue, textIn } from "./helpers.ts";
import { base64url, randomSigningKey, signQStash } from "./jwt.ts";
import type { SuiteCase } from "./suite.ts";

const URL_ = "https://app.example.com/api/transfer";

/** A storage whose jobs wait in a capture queue, a handler for it, and a way to post signed deliveries. */
async function setup(): Promise<{
  storage: QueuedStorage;
  remote: ReturnType<typeof memoryDriver>;
  jobs: ReturnType<typeof captureQueue>["jobs"];
  handler: (request: Request) => Promise<Response>;
  keys: { current: string; next: string };
}> {
  const remote = memoryDriver();
  const queue = captureQueue();
  const storage = createQueuedStorage({ local: memoryDriver(), remote, queue });
  const keys = { current: randomSigningKey(), next: randomSigningKey() };
  const handler = createTransferHandler(storage, {
    currentSigningKey: keys.current,
    nextSigningKey: keys.next,
    url: URL_,
  });
  return { storage, remote, jobs: queue.jobs, handler, keys };
}

function post(url: string, body: string, signature: string): Request {
  return new Request(url, {
    method: "POST",
    headers: { "content-type": "application/json", "upstash-signature": signature },
    body,
  });
}

export const qstashCases: SuiteCase[] = [
  {
    name: "qstash: a delivery signed with Web Crypto is verified and runs the transfer (200)",
    async run() {
      const { storage, remote, jobs, handler, keys } = await setup();
      await storage.setItem("invoices:1.pdf", "pdf bytes");
      equal(jobs.length, 1, "one job captured");
      const body = JSON.stringify(jobs[0]);
      const response = await handler(post(URL_, body, await signQStash(keys.current, URL_, body)));
      equal(response.status, 200, `status (${await response.clone().text()})`);
      equal(await response.json(), { status: "transferred" }, "response body");
      equal((await storage.status("invoices:1.pdf"))?.state, "remote", "state after the delivery");
      equal(await textIn(remote, "invoices:1.pdf"), "pdf bytes", "remote value");
      // QStash right after a key roll signs with the next key: accepted too, and the job is now a no-op.
      const again = await handler(post(URL_, body, await signQStash(keys.next, URL_, body)));
      equal(again.status, 200, "redelivery signed with the next key");
      equal(await again.json(), { status: "already-remote" }, "redelivery outcome");
      await storage.dispose();
    },
  },
  {
    name: "qstash: forged, tampered and unsigned deliveries are refused (401) and transfer nothing",
    async run() {
      const { storage, remote, jobs, handler, keys } = await setup();
      await storage.setItem("secret", "value");
      const body = JSON.stringify(jobs[0]);
      const forged = await handler(post(URL_, body, await signQStash(randomSigningKey(), URL_, body)));
      equal(forged.status, 401, "signed with an unknown key");
      const other = JSON.stringify({ key: "secret", generation: jobs[0]!.generation + 1 });
      const tampered = await handler(post(URL_, body, await signQStash(keys.current, URL_, other)));
      equal(tampered.status, 401, "signature over other body bytes");
      const elsewhere = await handler(post(URL_, body, await signQStash(keys.current, "https://evil.example/x", body)));
      equal(elsewhere.status, 401, "signed for another URL");
      const unsigned = await handler(new Request(URL_, { method: "POST", body }));
      equal(unsigned.status, 401, "no Upstash-Signature header");
      const [header, payload] = (await signQStash(keys.current, URL_, body)).split(".");
      const none = await handler(post(URL_, body, `${header}.${payload}.${base64url(new Uint8Array(32))}`));
      equal(none.status, 401, "zeroed signature");
      equal(await remote.hasItem("secret", {}), false, "nothing reached the remote");
      equal((await storage.status("secret"))?.state, "queued", "still queued");
      await storage.dispose();
    },
  },
  {
    name: "qstash: a signed dead letter on the failure-callback URL marks the key failed",
    async run() {
      const { storage, jobs, handler, keys } = await setup();
      await storage.setItem("doomed", "x");
      const failureUrl = `${URL_}?queued-storage=failure`;
      const letter = JSON.stringify({
        dlqId: "dlq_1",
        sourceBody: btoa(JSON.stringify(jobs[0])),
        retried: 3,
        status: 500,
        body: btoa(JSON.stringify({ error: "remote down" })),
      });
      const response = await handler(post(failureUrl, letter, await signQStash(keys.current, failureUrl, letter)));
      equal(response.status, 200, `status (${await response.clone().text()})`);
      const status = await storage.status("doomed");
      equal(status?.state, "failed", "state after the dead letter");
      ok(status?.error?.includes("remote down"), `error names the last response: ${status?.error}`);
      await storage.dispose();
    },
  },
];
