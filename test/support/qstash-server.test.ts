import { Client, Receiver } from "@upstash/qstash";
import { afterEach, describe, expect, it } from "vitest";
import { serveWebhook, type Webhook } from "./_qstash-webhook.ts";
import { startQStash, type QStashStandIn } from "./qstash-server.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  handler: (request: Request) => Response | Promise<Response> = () => new Response("ok"),
  options: Parameters<typeof startQStash>[0] = {},
): Promise<{ qstash: QStashStandIn; client: Client; hook: Webhook }> {
  const qstash = await startQStash(options);
  const hook = await serveWebhook(handler);
  cleanups.push(() => qstash.stop(), () => hook.stop());
  const client = new Client({ baseUrl: qstash.url, token: qstash.token, enableTelemetry: false, retry: false });
  return { qstash, client, hook };
}

const receiverOf = (qstash: QStashStandIn): Receiver =>
  new Receiver({ currentSigningKey: qstash.currentSigningKey, nextSigningKey: qstash.nextSigningKey, devMode: false });

describe("QStash stand-in with the real @upstash/qstash Client and Receiver", () => {
  it("delivers a publishJSON body unchanged, signed for the destination (query included) and verified by Receiver", async () => {
    const { qstash, client, hook } = await setup();
    const url = `${hook.origin}/api/hook?x=1&y=a%20b`;
    const result = await client.publishJSON({ url, body: { key: "a:b", generation: 7 }, headers: { "x-bypass": "s3cret" } });
    expect(result.messageId).toMatch(/^msg_/);
    await qstash.idle();

    expect(hook.received).toHaveLength(1);
    const [request] = hook.received;
    expect(request!.url).toBe(url);
    expect(request!.body).toBe('{"key":"a:b","generation":7}');
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["upstash-message-id"]).toBe(result.messageId);
    expect(request!.headers["upstash-retried"]).toBe("0");
    expect(request!.headers["x-bypass"]).toBe("s3cret");
    expect(request!.headers.authorization).toBeUndefined();
    expect(Object.keys(request!.headers).filter((name) => name.startsWith("upstash-telemetry"))).toEqual([]);
    const signature = request!.headers["upstash-signature"]!;
    await expect(receiverOf(qstash).verify({ signature, body: request!.body, url })).resolves.toBe(true);
    // The same token over another body or for another URL does not verify.
    await expect(receiverOf(qstash).verify({ signature, body: '{"key":"a:b","generation":8}', url })).rejects.toThrow(/body hash/);
    await expect(receiverOf(qstash).verify({ signature, body: request!.body, url: `${hook.origin}/x` })).rejects.toThrow(/subject/);
    expect(qstash.published[0]).toMatchObject({ messageId: result.messageId, destination: url, deduplicated: false });
  });

  it("publishes raw bodies and batches, one message id per batch item", async () => {
    const { qstash, client, hook } = await setup();
    await client.publish({ url: `${hook.origin}/raw`, body: "plain text", headers: { "content-type": "text/plain" } });
    const results = await client.batchJSON([1, 2, 3].map((n) => ({ url: `${hook.origin}/b${n}`, body: { n } })));
    expect(results).toHaveLength(3);
    expect(new Set(results.map((r) => (r as { messageId: string }).messageId)).size).toBe(3);
    await qstash.idle();
    const byPath = Object.fromEntries(hook.received.map((r) => [new URL(r.url).pathname, r]));
    expect(byPath["/raw"]).toMatchObject({ body: "plain text", headers: { "content-type": "text/plain" } });
    expect([1, 2, 3].map((n) => byPath[`/b${n}`]?.body)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    for (const request of hook.received) {
      await expect(
        receiverOf(qstash).verify({ signature: request.headers["upstash-signature"]!, body: request.body, url: request.url }),
      ).resolves.toBe(true);
    }
  });

  it("signs with the next key after a key roll, which a Receiver knowing both keys accepts", async () => {
    const { qstash, client, hook } = await setup(undefined, { signWith: "next" });
    await client.publishJSON({ url: `${hook.origin}/rolled`, body: { ok: true } });
    await qstash.idle();
    const { headers, body, url } = hook.received[0]!;
    const signature = headers["upstash-signature"]!;
    await expect(receiverOf(qstash).verify({ signature, body, url })).resolves.toBe(true);
    // Proof that the next key (not the current one) signed it: a receiver without the next key refuses it.
    const currentOnly = new Receiver({ currentSigningKey: qstash.currentSigningKey, nextSigningKey: "sig_other", devMode: false });
    await expect(currentOnly.verify({ signature, body, url })).rejects.toThrow();
  });

  it("deduplicates by Upstash-Deduplication-Id: 202 with the first message id, delivered once", async () => {
    const { qstash, client, hook } = await setup();
    const url = `${hook.origin}/dedup`;
    const first = await client.publishJSON({ url, body: { n: 1 }, deduplicationId: "job-1" });
    const second = await client.publishJSON({ url, body: { n: 1 }, deduplicationId: "job-1" });
    const other = await client.publishJSON({ url, body: { n: 1 }, deduplicationId: "job-2" });
    expect(second).toMatchObject({ messageId: first.messageId, deduplicated: true });
    expect(other.messageId).not.toBe(first.messageId);
    await qstash.idle();
    expect(hook.received).toHaveLength(2);
  });

  it("retries non-2xx answers with a fresh signature each time, counting Upstash-Retried", async () => {
    let calls = 0;
    const { qstash, client, hook } = await setup(() => new Response("nope", { status: ++calls <= 2 ? 500 : 200 }));
    const { messageId } = await client.publishJSON({ url: `${hook.origin}/flaky`, body: { n: 1 } });
    await qstash.idle();
    expect(qstash.deliveries.map((d) => [d.messageId, d.status, d.retried])).toEqual([
      [messageId, 500, 0],
      [messageId, 500, 1],
      [messageId, 200, 2],
    ]);
    expect(hook.received.map((r) => r.headers["upstash-retried"])).toEqual(["0", "1", "2"]);
    expect(qstash.dlq).toEqual([]);
  });

  it("dead-letters after the retries and POSTs the signed failure callback with dlqId and the source body", async () => {
    const { qstash, client, hook } = await setup((request) =>
      new URL(request.url).pathname === "/failed" ? new Response("ack") : new Response('{"error":"boom"}', { status: 500 }),
    );
    const url = `${hook.origin}/down`;
    const failureCallback = `${hook.origin}/failed?marker=1`;
    const { messageId } = await client.publishJSON({
      url,
      body: { key: "k", generation: 1 },
      retries: 2,
      failureCallback,
      headers: { "Upstash-Failure-Callback-Forward-X-Bypass": "s3cret" },
    });
    await qstash.idle();
    expect(qstash.deliveries.filter((d) => d.url === url).map((d) => d.retried)).toEqual([0, 1, 2]);
    expect(qstash.dlq).toHaveLength(1);
    const [entry] = qstash.dlq;
    const callbacks = hook.received.filter((r) => r.url === failureCallback);
    expect(callbacks).toHaveLength(1);
    const callback = callbacks[0]!;
    expect(callback.headers["x-bypass"]).toBe("s3cret");
    const letter = JSON.parse(callback.body);
    expect(letter).toMatchObject({
      dlqId: entry!.dlqId,
      sourceMessageId: messageId,
      status: 500,
      retried: 2,
      maxRetries: 2,
      url,
      method: "POST",
    });
    expect(Buffer.from(letter.sourceBody, "base64").toString()).toBe('{"key":"k","generation":1}');
    expect(Buffer.from(letter.body, "base64").toString()).toBe('{"error":"boom"}');
    const signature = callback.headers["upstash-signature"]!;
    await expect(receiverOf(qstash).verify({ signature, body: callback.body, url: failureCallback })).resolves.toBe(true);
    await expect(receiverOf(qstash).verify({ signature, body: callback.body, url })).rejects.toThrow(/subject/);
  });

  it("stops at once on 489 + Upstash-NonRetryable-Error, but retries a bare 489", async () => {
    const { qstash, client, hook } = await setup((request) => {
      const path = new URL(request.url).pathname;
      if (path === "/cb") return new Response("ok");
      const headers = path === "/permanent" ? { "upstash-nonretryable-error": "true" } : undefined;
      return new Response("bad job", { status: 489, headers });
    });
    await client.publishJSON({ url: `${hook.origin}/permanent`, body: {}, failureCallback: `${hook.origin}/cb` });
    await client.publishJSON({ url: `${hook.origin}/bare`, body: {}, retries: 1 });
    await qstash.idle();
    const attempts = (path: string) => qstash.deliveries.filter((d) => d.url === `${hook.origin}${path}`).length;
    expect(attempts("/permanent")).toBe(1);
    expect(attempts("/bare")).toBe(2);
    const letter = JSON.parse(hook.received.find((r) => r.url.endsWith("/cb"))!.body);
    expect(letter).toMatchObject({ status: 489, retried: 0 });
  });

  it("honours Retry-After from the destination", async () => {
    let calls = 0;
    const { qstash, client, hook } = await setup(() =>
      ++calls === 1 ? new Response("busy", { status: 503, headers: { "retry-after": "1" } }) : new Response("ok"),
    );
    const started = Date.now();
    await client.publishJSON({ url: `${hook.origin}/busy`, body: {} });
    await qstash.idle();
    expect(qstash.deliveries.map((d) => d.status)).toEqual([503, 200]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("retries when the destination is unreachable (status 0) and calls the failure callback", async () => {
    const { qstash, client, hook } = await setup();
    const dead = await serveWebhook(() => new Response("ok"));
    await dead.stop();
    await client.publishJSON({ url: `${dead.origin}/gone`, body: {}, retries: 1, failureCallback: `${hook.origin}/cb` });
    await qstash.idle();
    expect(qstash.deliveries.filter((d) => d.kind === "message").map((d) => d.status)).toEqual([0, 0]);
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({ status: 0, retried: 1 });
  });

  it("holds deliveries while paused, skips delays on flush, and lists only pending messages", async () => {
    const { qstash, client, hook } = await setup();
    qstash.pause();
    const held = await client.publishJSON({ url: `${hook.origin}/held`, body: {} });
    const delayed = await client.publishJSON({ url: `${hook.origin}/later`, body: {}, delay: "1h" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hook.received).toHaveLength(0);
    await expect(client.messages.get(held.messageId)).resolves.toMatchObject({ messageId: held.messageId });
    qstash.resume();
    qstash.flush();
    await qstash.idle();
    expect(hook.received.map((r) => new URL(r.url).pathname).sort()).toEqual(["/held", "/later"]);
    await expect(client.messages.get(delayed.messageId)).rejects.toMatchObject({ status: 404 });
  });

  it("refuses a wrong token with 401 and answers GET /v2/keys", async () => {
    const { qstash, hook } = await setup();
    const intruder = new Client({ baseUrl: qstash.url, token: "wrong", enableTelemetry: false, retry: false });
    await expect(intruder.publishJSON({ url: `${hook.origin}/x`, body: {} })).rejects.toMatchObject({ status: 401 });
    const keys = await fetch(`${qstash.url}/v2/keys`, { headers: { authorization: `Bearer ${qstash.token}` } });
    expect(await keys.json()).toEqual({ current: qstash.currentSigningKey, next: qstash.nextSigningKey });
    expect(qstash.published).toEqual([]);
  });
});
