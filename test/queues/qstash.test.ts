import { Client, Receiver } from "@upstash/qstash";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTransferHandler, qstashQueue } from "../../src/queues/qstash.ts";
import type { TransferJob, TransferOutcome } from "../../src/contracts.ts";
import { serveWebhook } from "../support/_qstash-webhook.ts";
import { randomSigningKey, signQStashJwt, startQStash } from "../support/qstash-server.ts";

const URL_ = "https://app.example.com/api/transfer";
const FAILURE_URL = `${URL_}?queued-storage=failure`;
const current = randomSigningKey();
const next = randomSigningKey();

function fakeTarget(outcome: () => Promise<TransferOutcome> = async () => "transferred") {
  return {
    handle: vi.fn(async (_job: TransferJob) => outcome()),
    fail: vi.fn(async (_job: TransferJob, _reason: unknown) => {}),
  };
}

interface PostOptions {
  url?: string;
  key?: string;
  sub?: string;
  signedBody?: string;
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  signature?: string | null;
  headers?: Record<string, string>;
  method?: string;
}

function post(body: string | ReadableStream<Uint8Array>, options: PostOptions = {}): Request {
  const url = options.url ?? URL_;
  const headers = new Headers(options.headers);
  const signature =
    options.signature !== undefined
      ? options.signature
      : signQStashJwt({
          key: options.key ?? current,
          url: options.sub ?? url,
          body: options.signedBody ?? (typeof body === "string" ? body : ""),
          claims: options.claims,
          header: options.header,
        });
  if (signature !== null) headers.set("upstash-signature", signature);
  // @ts-expect-error: duplex is needed by Node for a streamed body; the DOM types do not know it
  return new Request(url, { method: options.method ?? "POST", headers, body, duplex: "half" });
}

const job = (key = "avatars:1.png", generation = 3): string => JSON.stringify({ key, generation });
const handlerFor = (target: ReturnType<typeof fakeTarget>, options = {}) =>
  createTransferHandler(target, { currentSigningKey: current, nextSigningKey: next, url: URL_, ...options });

async function answer(response: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("createTransferHandler: signature", () => {
  it("runs a correctly signed job and answers 200 with the outcome", async () => {
    const target = fakeTarget();
    const res = await answer(await handlerFor(target)(post(job())));
    expect(res).toEqual({ status: 200, body: { status: "transferred" } });
    expect(target.handle).toHaveBeenCalledExactlyOnceWith({ key: "avatars:1.png", generation: 3 });
  });

  it("accepts a delivery signed with the next key (keys were rolled)", async () => {
    const target = fakeTarget();
    expect((await handlerFor(target)(post(job(), { key: next }))).status).toBe(200);
    expect(target.handle).toHaveBeenCalledOnce();
  });

  it.each([
    ["missing header", { signature: null }],
    ["forged with another key", { key: randomSigningKey() }],
    ["garbage token", { signature: "not.a.jwt" }],
    ["expired token", { claims: { iat: Math.floor(Date.now() / 1000) - 900, exp: Math.floor(Date.now() / 1000) - 600 } }],
    ["not yet valid token", { claims: { nbf: Math.floor(Date.now() / 1000) + 600 } }],
    ["other issuer", { claims: { iss: "Mallory" } }],
    ["signed over another body", { signedBody: job("avatars:1.png", 4) }],
    ["signed for another endpoint", { sub: "https://app.example.com/api/other" }],
    ["no body claim", { claims: { body: undefined } }],
  ] satisfies Array<[string, PostOptions]>)("refuses %s with 401 and runs nothing", async (_name, options) => {
    const target = fakeTarget();
    const res = await answer(await handlerFor(target)(post(job(), options)));
    expect(res.status).toBe(401);
    expect(res.body.error).toMatch(/Upstash-Signature/);
    expect(target.handle).not.toHaveBeenCalled();
    expect(target.fail).not.toHaveBeenCalled();
  });

  it("agrees with @upstash/qstash's Receiver on every valid and forged token", async () => {
    const receiver = new Receiver({ currentSigningKey: current, nextSigningKey: next, devMode: false });
    const now = Math.floor(Date.now() / 1000);
    const cases: PostOptions[] = [
      {}, { key: next }, { key: randomSigningKey() }, { signature: "not.a.jwt" }, { signature: "a.b" },
      { claims: { exp: now - 600 } }, { claims: { nbf: now + 600 } }, { claims: { iss: "Mallory" } },
      { signedBody: job("avatars:1.png", 4) }, { sub: "https://app.example.com/api/other" }, { claims: { body: undefined } },
      { header: { alg: "none" } },
    ];
    for (const options of cases) {
      const request = post(job(), options);
      const signature = request.headers.get("upstash-signature")!;
      const theirs = await receiver.verify({ signature, body: job(), url: URL_ }).catch(() => false);
      const ours = (await handlerFor(fakeTarget(), { clockTolerance: 0 })(request)).status === 200;
      expect([JSON.stringify(options), ours]).toEqual([JSON.stringify(options), theirs]);
    }
  });

  it("does not check the subject when no `url` is configured (like the SDK helpers)", async () => {
    const target = fakeTarget();
    const handler = createTransferHandler(target, { currentSigningKey: current, nextSigningKey: next });
    expect((await handler(post(job(), { sub: "https://elsewhere.example/x" }))).status).toBe(200);
    // …but the signature and body hash still are.
    expect((await handler(post(job(), { signedBody: "{}" }))).status).toBe(401);
    expect(target.handle).toHaveBeenCalledOnce();
  });

  it("needs both signing keys, from options or env, and names what is missing", () => {
    vi.stubEnv("QSTASH_CURRENT_SIGNING_KEY", "");
    vi.stubEnv("QSTASH_NEXT_SIGNING_KEY", "");
    expect(() => createTransferHandler(fakeTarget(), { currentSigningKey: current })).toThrow(
      /\[queued-storage\] \[qstash\].*nextSigningKey.*QSTASH_NEXT_SIGNING_KEY/,
    );
    expect(() => createTransferHandler(fakeTarget())).toThrow(/QSTASH_CURRENT_SIGNING_KEY.*QSTASH_NEXT_SIGNING_KEY/);
  });

  it("takes the signing keys from env when not given", async () => {
    vi.stubEnv("QSTASH_CURRENT_SIGNING_KEY", current);
    vi.stubEnv("QSTASH_NEXT_SIGNING_KEY", next);
    const target = fakeTarget();
    expect((await createTransferHandler(target, { url: URL_ })(post(job()))).status).toBe(200);
    expect(target.handle).toHaveBeenCalledOnce();
  });
});

describe("createTransferHandler: request and job validation", () => {
  it("answers 405 with Allow: POST to other methods", async () => {
    const target = fakeTarget();
    const response = await handlerFor(target)(new Request(URL_, { method: "GET" }));
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(target.handle).not.toHaveBeenCalled();
  });

  it("refuses a body over maxBodyBytes by its Content-Length, before reading it", async () => {
    const target = fakeTarget();
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => void (pulled++, c.enqueue(new Uint8Array(10))) });
    const request = post(stream, { headers: { "content-length": "5000" } });
    expect((await handlerFor(target)(request)).status).toBe(413);
    expect(pulled).toBeLessThanOrEqual(1); // the stream's own initial pull at most: nothing was read
    expect(target.handle).not.toHaveBeenCalled();
  });

  it("stops reading a body without Content-Length as soon as it exceeds maxBodyBytes, without cancelling it", async () => {
    const target = fakeTarget();
    let pulled = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull: (controller) => void (pulled++, controller.enqueue(new Uint8Array(1024).fill(32))),
      cancel: () => void (cancelled = true),
    });
    const response = await handlerFor(target, { maxBodyBytes: 4096 })(post(endless));
    expect(response.status).toBe(413);
    // The stream belongs to the server (cancelling h3 1's crashed the process); the server closes the connection.
    expect(cancelled).toBe(false);
    expect(response.headers.get("connection")).toBe("close");
    expect(pulled).toBeLessThan(10);
    expect(target.handle).not.toHaveBeenCalled();
  });

  it("reads no body byte of a request whose token is missing, garbage or forged", async () => {
    for (const options of [{ signature: null }, { signature: "garbage" }, { key: randomSigningKey() }] satisfies PostOptions[]) {
      const target = fakeTarget();
      let pulled = 0;
      const stream = new ReadableStream<Uint8Array>({ pull: (c) => void (pulled++, c.enqueue(new Uint8Array(1024))) }, { highWaterMark: 0 });
      const response = await handlerFor(target)(post(stream, options));
      expect(response.status).toBe(401);
      expect(response.headers.get("connection")).toBe("close");
      expect(pulled).toBe(0);
      expect(target.handle).not.toHaveBeenCalled();
    }
  });

  it("answers 408 to a signed body that stalls past bodyTimeoutMs, and leaves no rejection behind", async () => {
    const target = fakeTarget();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    let stall!: ReadableStreamDefaultController<Uint8Array>;
    const stalled = new ReadableStream<Uint8Array>({
      start: (controller) => {
        stall = controller;
        controller.enqueue(new TextEncoder().encode('{"key":'));
      },
    });
    const res = await answer(await handlerFor(target, { bodyTimeoutMs: 200 })(post(stalled, { signedBody: job() })));
    expect(res).toEqual({ status: 408, body: { error: "body not received within 200 ms" } });
    // The connection goes away afterwards: the pending read rejects, and nobody may see that as unhandled.
    stall.error(new Error("socket closed"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled).toEqual([]);
    expect(target.handle).not.toHaveBeenCalled();
  });

  it("answers 400 to a signed body the client aborts half-way", async () => {
    const target = fakeTarget();
    const aborted = new ReadableStream<Uint8Array>({
      start: (controller) => {
        controller.enqueue(new TextEncoder().encode('{"key":'));
        controller.error(new Error("aborted"));
      },
    });
    const res = await answer(await handlerFor(target)(post(aborted, { signedBody: job() })));
    expect(res).toEqual({ status: 400, body: { error: "the request body was aborted" } });
    expect(target.handle).not.toHaveBeenCalled();
  });

  it("answers 400 when a middleware already read the body", async () => {
    const target = fakeTarget();
    const request = post(job());
    await request.text();
    const res = await answer(await handlerFor(target)(request));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/already read/);
  });

  it("answers 400 to a correctly signed body that is not UTF-8", async () => {
    const target = fakeTarget();
    const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const signature = signQStashJwt({ key: current, url: URL_, body: bytes });
    // @ts-expect-error: duplex is needed by Node for a streamed body
    const request = new Request(URL_, { method: "POST", body: bytes, headers: { "upstash-signature": signature }, duplex: "half" });
    const res = await answer(await handlerFor(target)(request));
    expect(res).toEqual({ status: 400, body: { error: "body is not valid UTF-8" } });
    expect(target.handle).not.toHaveBeenCalled();
  });

  it.each(["maxBodyBytes", "maxFailureBodyBytes", "bodyTimeoutMs", "clockTolerance"])("refuses a negative or non-numeric %s, naming it", (name) => {
    for (const value of [-1, Number.NaN, "10"]) {
      expect(() => handlerFor(fakeTarget(), { [name]: value })).toThrow(new RegExp(`\\[qstash\\].*\`${name}\` must be a non-negative number`));
    }
  });

  it("accepts a body of exactly maxBodyBytes", async () => {
    const target = fakeTarget();
    const body = job("k".padEnd(60, "x"));
    expect((await handlerFor(target, { maxBodyBytes: body.length })(post(body))).status).toBe(200);
    expect((await handlerFor(target, { maxBodyBytes: body.length - 1 })(post(body))).status).toBe(413);
    expect(target.handle).toHaveBeenCalledOnce();
  });

  it("answers 400 to a correctly signed body that is not JSON", async () => {
    const target = fakeTarget();
    const res = await answer(await handlerFor(target)(post("{key: 'a'")));
    expect(res).toMatchObject({ status: 400, body: { error: "body is not valid JSON" } });
    expect(target.handle).not.toHaveBeenCalled();
  });

  it.each([
    ["an array", "[1]", /expected an object/],
    ["null", "null", /expected an object/],
    ["a missing key", '{"generation":1}', /invalid key/],
    ["an empty key", '{"key":"","generation":1}', /non-empty/],
    ["a numeric key", '{"key":5,"generation":1}', /invalid key/],
    ["a key with control characters", JSON.stringify({ key: "a\nb", generation: 1 }), /control/],
    ["a key with a .. segment", '{"key":"a:..:b","generation":1}', /"\.\." segments/],
    ["a key with a ../ path", '{"key":"../etc/passwd","generation":1}', /"\.\." segments/],
    ["a key over 1024 characters", JSON.stringify({ key: "k".repeat(1025), generation: 1 }), /longer than 1024/],
    ["generation 0", '{"key":"a","generation":0}', /generation must be a positive integer/],
    ["a negative generation", '{"key":"a","generation":-1}', /generation/],
    ["a fractional generation", '{"key":"a","generation":1.5}', /generation/],
    ["a string generation", '{"key":"a","generation":"1"}', /generation/],
    ["an unsafe integer generation", '{"key":"a","generation":9007199254740993}', /generation/],
    ["an extra property", '{"key":"a","generation":1,"url":"http://evil"}', /unexpected property url/],
    ["a __proto__ property", '{"key":"a","generation":1,"__proto__":{"x":1}}', /unexpected property __proto__/],
  ])("answers 400 to a job with %s, naming the problem", async (_name, body, message) => {
    const target = fakeTarget();
    const res = await answer(await handlerFor(target, { maxBodyBytes: 8192 })(post(body)));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^\[queued-storage\] \[qstash\] /);
    expect(res.body.error).toMatch(message);
    expect(target.handle).not.toHaveBeenCalled();
  });
});

describe("createTransferHandler: outcomes map to what QStash should do", () => {
  it.each(["stale", "already-remote"] as const)("answers 200 { status: %s }", async (outcome) => {
    const res = await answer(await handlerFor(fakeTarget(async () => outcome))(post(job())));
    expect(res).toEqual({ status: 200, body: { status: outcome } });
  });

  it("answers 503 with Retry-After: 1 when another transfer holds the key", async () => {
    const response = await handlerFor(fakeTarget(async () => "busy"))(post(job()));
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
  });

  it("answers 489 + Upstash-NonRetryable-Error to a permanent failure", async () => {
    const permanent = Object.assign(new Error("[queued-storage] the local copy is gone"), { retryable: false });
    const response = await handlerFor(fakeTarget(() => Promise.reject(permanent)))(post(job()));
    expect(response.status).toBe(489);
    expect(response.headers.get("upstash-nonretryable-error")).toBe("true");
    expect(await response.json()).toEqual({ error: "[queued-storage] the local copy is gone" });
  });

  it("answers 500 with the message only (no stack) to a transient failure, so QStash retries", async () => {
    const transient = Object.assign(new Error("remote unreachable"), { retryable: true });
    const response = await handlerFor(fakeTarget(() => Promise.reject(transient)))(post(job()));
    expect(response.status).toBe(500);
    expect(response.headers.get("upstash-nonretryable-error")).toBeNull();
    expect(await response.json()).toEqual({ error: "remote unreachable" });
  });
});

describe("createTransferHandler: failure callbacks", () => {
  const letter = (sourceBody = job(), extra: Record<string, unknown> = {}): string =>
    JSON.stringify({
      status: 500,
      header: { "content-type": ["application/json"] },
      body: Buffer.from('{"error":"remote unreachable"}').toString("base64"),
      retried: 3,
      maxRetries: 3,
      dlqId: "1725323658779-0",
      sourceMessageId: "msg_abc",
      url: URL_,
      method: "POST",
      sourceBody: Buffer.from(sourceBody).toString("base64"),
      ...extra,
    });

  it("marks the job failed with a reason naming the last response and the dlqId", async () => {
    const target = fakeTarget();
    const res = await answer(await handlerFor(target)(post(letter(), { url: FAILURE_URL })));
    expect(res).toEqual({ status: 200, body: { status: "failed" } });
    expect(target.fail).toHaveBeenCalledOnce();
    const [failedJob, reason] = target.fail.mock.calls[0]!;
    expect(failedJob).toEqual({ key: "avatars:1.png", generation: 3 });
    expect(reason).toMatch(/after 3 retries/);
    expect(reason).toMatch(/1725323658779-0/);
    expect(reason).toMatch(/500: remote unreachable/);
    expect(target.handle).not.toHaveBeenCalled();
  });

  it("refuses a dead letter signed for the webhook URL instead of the callback URL", async () => {
    const target = fakeTarget();
    expect((await handlerFor(target)(post(letter(), { url: FAILURE_URL, sub: URL_ }))).status).toBe(401);
    expect(target.fail).not.toHaveBeenCalled();
  });

  it("treats a dead letter on the webhook URL as an invalid job, and a job on the callback URL as no letter", async () => {
    const target = fakeTarget();
    expect((await handlerFor(target, { maxBodyBytes: 8192 })(post(letter()))).status).toBe(400);
    expect((await handlerFor(target)(post(job(), { url: FAILURE_URL }))).status).toBe(400);
    expect(target.fail).not.toHaveBeenCalled();
    expect(target.handle).not.toHaveBeenCalled();
  });

  it("answers 400 to a dead letter whose source body is not a valid job", async () => {
    const target = fakeTarget();
    const res = await answer(await handlerFor(target)(post(letter('{"key":"../x","generation":1}'), { url: FAILURE_URL })));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/invalid job.*"\.\." segments/);
    expect(target.fail).not.toHaveBeenCalled();
  });

  it("answers 500 when recording the failure fails, so QStash retries the callback", async () => {
    const target = fakeTarget();
    target.fail.mockRejectedValueOnce(new Error("flag store down"));
    const res = await answer(await handlerFor(target)(post(letter(), { url: FAILURE_URL })));
    expect(res).toEqual({ status: 500, body: { error: "flag store down" } });
  });

  it("uses a configured failureCallbackUrl as the expected subject", async () => {
    const target = fakeTarget();
    const custom = "https://hooks.example.com/dead?queued-storage=failure";
    const handler = handlerFor(target, { failureCallbackUrl: "https://hooks.example.com/dead" });
    expect((await handler(post(letter(), { url: custom }))).status).toBe(200);
    expect((await handler(post(letter(), { url: custom, sub: FAILURE_URL }))).status).toBe(401);
    expect(target.fail).toHaveBeenCalledOnce();
  });
});

describe("qstashQueue with the real Client against the stand-in", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup() {
    const qstash = await startQStash();
    const hook = await serveWebhook(() => new Response('{"status":"transferred"}'));
    cleanups.push(() => qstash.stop(), () => hook.stop());
    const client = new Client({ baseUrl: qstash.url, token: qstash.token, enableTelemetry: false, retry: false });
    return { qstash, hook, client, url: `${hook.origin}/api/transfer` };
  }

  it("publishes exactly { key, generation } to the webhook with a dedup id, failure callback and options", async () => {
    const { qstash, client, url } = await setup();
    const queue = qstashQueue({
      client,
      url,
      retries: 5,
      retryDelay: "1000 * pow(2, retried)",
      delay: 2,
      timeout: "30s",
      flowControl: { key: "uploads", parallelism: 4 },
      headers: { "x-vercel-protection-bypass": "bypass-secret" },
    });
    await queue.enqueue(Object.assign({ key: "avatars/1.png", generation: 3 }, { secret: "never sent" }));
    const [message] = qstash.published;
    expect(message!.destination).toBe(url);
    expect(message!.body).toBe('{"key":"avatars/1.png","generation":3}');
    expect(message!.headers).toMatchObject({
      "content-type": "application/json",
      "upstash-failure-callback": `${url}?queued-storage=failure`,
      "upstash-retries": "5",
      "upstash-retry-delay": "1000 * pow(2, retried)",
      "upstash-delay": "2s",
      "upstash-timeout": "30s",
      "upstash-flow-control-key": "uploads",
      "upstash-flow-control-value": "parallelism=4",
      "upstash-forward-x-vercel-protection-bypass": "bypass-secret",
      "upstash-failure-callback-forward-x-vercel-protection-bypass": "bypass-secret",
    });
    expect(message!.headers["upstash-deduplication-id"]).toMatch(/^qs-[0-9a-f]{64}$/);
  });

  it("derives a dedup id stable per key+generation, different across generations, keys and webhooks", async () => {
    const { qstash, client, url } = await setup();
    qstash.pause(); // messages stay pending, so a duplicate publish is dropped and not re-published
    const queue = qstashQueue({ client, url });
    await queue.enqueue({ key: "a", generation: 1 });
    await queue.enqueue({ key: "a", generation: 1 });
    await queue.enqueue({ key: "a", generation: 2 });
    await queue.enqueue({ key: "b", generation: 1 });
    await qstashQueue({ client, url: `${url}/other` }).enqueue({ key: "a", generation: 1 });
    const ids = qstash.published.map((p) => p.headers["upstash-deduplication-id"]);
    expect(ids[0]).toBe(ids[1]);
    expect(new Set([ids[0], ids[2], ids[3], ids[4]]).size).toBe(4);
    expect(qstash.published.map((p) => p.deduplicated)).toEqual([false, true, false, false, false]);
    qstash.resume();
    await qstash.idle();
    expect(qstash.deliveries).toHaveLength(4);
  });

  it("publishes a deliberate redo of a job QStash already delivered (transfer(key), sync())", async () => {
    const { qstash, client, url } = await setup();
    const queue = qstashQueue({ client, url });
    await queue.enqueue({ key: "a", generation: 1 });
    await qstash.idle();
    await queue.enqueue({ key: "a", generation: 1 });
    await qstash.idle();
    expect(qstash.deliveries.map((d) => d.body)).toEqual(['{"key":"a","generation":1}', '{"key":"a","generation":1}']);
  });

  it("batches enqueueMany into requests of at most 100 jobs, each job once", async () => {
    const { qstash, client, url } = await setup();
    const jobs = Array.from({ length: 250 }, (_, i) => ({ key: `k:${i}`, generation: i + 1 }));
    await qstashQueue({ client, url }).enqueueMany!(jobs);
    expect(qstash.batches).toEqual([100, 100, 50]);
    await qstash.idle();
    const delivered = qstash.deliveries.map((d) => JSON.parse(d.body) as TransferJob);
    expect(delivered.sort((a, b) => a.generation - b.generation)).toEqual(jobs);
    expect(new Set(qstash.published.map((p) => p.headers["upstash-deduplication-id"])).size).toBe(250);
    expect(qstash.published.every((p) => p.headers["upstash-failure-callback"] === `${url}?queued-storage=failure`)).toBe(true);
  });

  it("configures no failure callback with failureCallbackUrl: false, and a custom one as given", async () => {
    const { qstash, client, url } = await setup();
    await qstashQueue({ client, url, failureCallbackUrl: false }).enqueue({ key: "a", generation: 1 });
    await qstashQueue({ client, url, failureCallbackUrl: `${url}/dead` }).enqueue({ key: "a", generation: 2 });
    expect(qstash.published[0]!.headers["upstash-failure-callback"]).toBeUndefined();
    expect(qstash.published[1]!.headers["upstash-failure-callback"]).toBe(`${url}/dead?queued-storage=failure`);
  });

  it("refuses invalid jobs before publishing anything", async () => {
    const { qstash, client, url } = await setup();
    const queue = qstashQueue({ client, url });
    await expect(queue.enqueue({ key: "../etc", generation: 1 })).rejects.toThrow(/"\.\." segments/);
    await expect(queue.enqueueMany!([{ key: "ok", generation: 1 }, { key: "x", generation: 0 }])).rejects.toThrow(/generation/);
    expect(qstash.published).toEqual([]);
  });

  it("names a missing or invalid url at construction", () => {
    expect(() => qstashQueue({} as never)).toThrow(/\[queued-storage\] \[qstash\] option `url` must be an absolute http\(s\) URL/);
    expect(() => qstashQueue({ url: "/api/transfer", token: "t" })).toThrow(/`url`/);
    expect(() => qstashQueue({ url: "ftp://x/y", token: "t" })).toThrow(/`url`/);
  });

  it("names a missing token on first use, and reads QSTASH_TOKEN / QSTASH_URL from env lazily", async () => {
    vi.stubEnv("QSTASH_TOKEN", "");
    vi.stubEnv("QSTASH_URL", "");
    const { qstash, url } = await setup();
    const queue = qstashQueue({ url });
    await expect(queue.enqueue({ key: "a", generation: 1 })).rejects.toThrow(/no QStash token.*QSTASH_TOKEN/);
    vi.stubEnv("QSTASH_TOKEN", qstash.token);
    vi.stubEnv("QSTASH_URL", qstash.url);
    await queue.enqueue({ key: "a", generation: 1 });
    expect(qstash.published).toHaveLength(1);
  });

  it("reports a refused publish with the key and QStash's answer", async () => {
    const { qstash, url } = await setup();
    const queue = qstashQueue({ url, token: "wrong", baseUrl: qstash.url });
    await expect(queue.enqueue({ key: "a", generation: 1 })).rejects.toThrow(
      /\[queued-storage\] \[qstash\] publishing the transfer of "a" failed: .*Unauthorized/,
    );
  });
});
