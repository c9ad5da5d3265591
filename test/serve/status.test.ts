import memoryDriver from "unstorage/drivers/memory";
import { afterEach, describe, expect, it } from "vitest";
import { createQueuedStorage, createStatusHandler, defineTask, memoryFlags, memoryQueue, transfer } from "../../src/index.ts";

const ORIGIN = "https://app.example.com";
const ROUTE = "/_queued-storage";
const EVIL = "<script>alert(1)<img src=x onerror=alert(2)>"; // no "/": unstorage would make it ":"

const disposers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(disposers.splice(0).map((dispose) => dispose()));
});

/** A storage with failed keys (one of them hostile), and its status handler behind a bearer token. */
async function world() {
  const broken = { on: true };
  const task = defineTask({ name: "flaky", run: (ctx) => (broken.on ? Promise.reject(new Error("remote <down> & out")) : transfer.run(ctx)) });
  const storage = createQueuedStorage({
    local: memoryDriver(),
    remote: memoryDriver(),
    flags: memoryFlags(),
    task,
    localUrl: "/files/",
    queue: memoryQueue({ retries: 0, retryDelay: 1 }),
  });
  disposers.push(() => storage.dispose());
  const handler = createStatusHandler(storage, {
    route: ROUTE,
    authorize: (request) =>
      request.headers.get("authorization") === null
        ? new Response("Unauthorized", { status: 401, headers: { "www-authenticate": "Bearer" } })
        : request.headers.get("authorization") === "Bearer good",
  });
  for (const key of ["a:1", EVIL, "b:2"]) await storage.setItem(key, "v");
  await storage.drain();
  const get = (path: string, headers: Record<string, string> = {}) =>
    handler(new Request(`${ORIGIN}${path}`, { headers: { authorization: "Bearer good", ...headers } }));
  const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    handler(
      new Request(`${ORIGIN}${ROUTE}`, {
        method: "POST",
        body: new URLSearchParams(fields),
        headers: { authorization: "Bearer good", origin: ORIGIN, "sec-fetch-site": "same-origin", ...headers },
      }),
    );
  /** The page's form token and the cookie that goes with it. */
  async function session(): Promise<{ token: string; cookie: string }> {
    const response = await get(ROUTE);
    const cookie = response.headers.get("set-cookie")!.split(";")[0]!;
    return { token: cookie.split("=")[1]!, cookie };
  }
  const snapshot = async () => JSON.stringify([await storage.stats(), (await storage.list({ limit: 1000 })).items]);
  return { storage, handler, broken, get, post, session, snapshot };
}

describe("createStatusHandler", () => {
  it("renders the counts, the oldest write and the failed keys with their errors, every key HTML-escaped", async () => {
    const { get } = await world();
    const response = await get(`${ROUTE}?state=failed`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toContain("script-src 'nonce-");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    const html = await response.text();
    expect(html).toContain('<b>3</b><span>failed</span>');
    expect(html).toContain("Oldest unfinished write");
    expect(html).toContain("<code>&#60;script&#62;alert(1)&#60;img src=x onerror=alert(2)&#62;</code>");
    expect(html).not.toContain(EVIL);
    expect(html).toContain("remote &#60;down&#62; &#38; out");
    expect(html.match(/<script\b/g)).toHaveLength(1); // only the page's own refresh script
    expect(html.length).toBeLessThan(40_000);

    const page = await (await get(`${ROUTE}?key=${encodeURIComponent(EVIL)}`)).text();
    expect(page).not.toContain(EVIL);
    expect(page).toContain("<dt>Tier</dt><dd>local</dd>");
    expect(page).toContain('<dt>URL</dt><dd><a href="/files/%3Cscript%3Ealert(1)%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E"');
  });

  it("answers the same data as JSON, by ?format=json or Accept", async () => {
    const { get } = await world();
    const body = await (await get(`${ROUTE}?format=json&state=failed&limit=2`)).json();
    expect(body.stats.counts.failed).toBe(3);
    expect(body.list.items).toHaveLength(2);
    expect(body.list.cursor).toEqual(expect.any(String));
    const next = await (await get(`${ROUTE}?state=failed&limit=2&cursor=${body.list.cursor}`, { accept: "application/json" })).json();
    expect(next.list.items.map(([key]: [string]) => key)).toEqual(["b:2"]);
    const key = await (await get(`${ROUTE}?key=a:1&format=json`)).json();
    expect(key).toMatchObject({ key: "a:1", tier: "local", url: "/files/a/1", status: { state: "failed", attempts: 1 } });
  });

  it("Retry and Sync: a same-origin POST with the page's token requeues; the key turns remote", async () => {
    const { post, session, storage, broken, handler } = await world();
    broken.on = false;
    const { token, cookie } = await session();
    const response = await post({ action: "retry", key: "a:1", token }, { cookie });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toMatch(/^\/_queued-storage\?done=Queued/);
    await storage.drain();
    expect(await storage.status("a:1")).toMatchObject({ state: "remote" });
    expect((await post({ action: "retry-failed", token }, { cookie })).status).toBe(303);
    await storage.drain();
    expect((await storage.stats()).counts).toMatchObject({ remote: 3, failed: 0 });
    expect((await post({ action: "sync", token }, { cookie })).status).toBe(303);
    // Behind a proxy that terminates TLS: the request URL is http:, the browser's Origin https:, the host the same.
    const proxied = await handler(
      new Request("http://app.example.com/_queued-storage", {
        method: "POST",
        body: new URLSearchParams({ action: "sync", token }),
        headers: { authorization: "Bearer good", origin: "https://app.example.com", cookie },
      }),
    );
    expect(proxied.status).toBe(303);
  });

  it("hostile requests change nothing: no or wrong credentials, cross-site POSTs, missing tokens, absurd input", async () => {
    const { handler, get, post, session, snapshot, broken } = await world();
    broken.on = false;
    const before = await snapshot();
    const { token, cookie } = await session();
    const plain = (init: RequestInit & { path?: string }) => handler(new Request(`${ORIGIN}${init.path ?? ROUTE}`, init));
    const answers = [
      [await plain({}), 401],
      [await plain({ headers: { authorization: "Bearer bad" } }), 403],
      [await plain({ path: `${ROUTE}/metrics`, headers: { authorization: "Bearer bad" } }), 403],
      [await plain({ method: "POST", body: new URLSearchParams({ action: "sync", token }), headers: { cookie, origin: ORIGIN } }), 401],
      [await post({ action: "sync", token }, { cookie, authorization: "Bearer bad" }), 403],
      [await post({ action: "sync", token }, { cookie, origin: "https://evil.example", "sec-fetch-site": "cross-site" }), 403],
      [await post({ action: "sync", token }, { cookie, origin: "https://evil.example", "sec-fetch-site": "" }), 403],
      [await post({ action: "sync", token }, { cookie, "sec-fetch-site": "same-site" }), 403],
      [await post({ action: "sync", token }, { cookie, origin: "null", "sec-fetch-site": "" }), 403],
      [await post({ action: "sync", token }, { cookie, origin: "https://app.example.com.evil.example", "sec-fetch-site": "" }), 403],
      [await post({ action: "retry-failed" }, { cookie }), 403],
      [await post({ action: "retry-failed", token: "forged-token-forged-token" }, { cookie }), 403],
      [await post({ action: "retry-failed", token }), 403],
      [await post({ action: "retry", key: "../etc", token }, { cookie }), 400],
      [await post({ action: "retry", key: "a\u0000", token }, { cookie }), 400],
      [await post({ action: "delete-everything", token }, { cookie }), 400],
      [await post({ action: "sync", token: "x".repeat(10_000) }, { cookie }), 413],
      [await get(`${ROUTE}?limit=100000000`), 400],
      [await get(`${ROUTE}?limit=-1`), 400],
      [await get(`${ROUTE}?limit=0`), 400],
      [await get(`${ROUTE}?cursor=${"A".repeat(5000)}`), 400],
      [await get(`${ROUTE}?cursor=c1.%00%01`), 400],
      [await get(`${ROUTE}?state=removed`), 400],
      [await get(`${ROUTE}?key=`), 400],
      [await get(`${ROUTE}?key=${"k".repeat(2000)}`), 400],
      [await get(`${ROUTE}/../etc/passwd`), 404],
      [await get("/elsewhere"), 404],
      [await plain({ method: "DELETE", headers: { authorization: "Bearer good" } }), 405],
    ] as const;
    for (const [index, [response, status]] of answers.entries()) expect([index, response.status]).toEqual([index, status]);
    expect(await snapshot()).toBe(before);
    const bad = await get(`${ROUTE}?limit=100000000`);
    expect(await bad.text()).toContain("`limit` must be an integer from 1 to 1000");
  });

  it("serves Prometheus metrics: counts per state, transfers of this process and a duration histogram", async () => {
    const { get, post, session, storage, broken } = await world();
    broken.on = false;
    const { token, cookie } = await session();
    await post({ action: "retry-failed", token }, { cookie });
    await storage.drain();
    await storage.setItem("c", "v");
    await storage.drain();
    const response = await get(`${ROUTE}/metrics`);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    expect(text).toContain('queued_storage_keys{state="remote"} 4');
    expect(text).toContain('queued_storage_keys{state="failed"} 0');
    expect(text).toContain('queued_storage_transfers_total{outcome="transferred"} 4');
    expect(text).toContain('queued_storage_transfer_duration_seconds_bucket{le="+Inf"} 4');
    expect(text).toContain("queued_storage_transfer_duration_seconds_count 4");
    expect(text).toMatch(/# TYPE queued_storage_transfer_duration_seconds histogram/);
  });

  it("counts failures and keeps the storage's own onTransferred/onFailed", async () => {
    const seen: string[] = [];
    const storage = createQueuedStorage({
      local: memoryDriver(),
      remote: memoryDriver(),
      task: defineTask({ name: "no", run: () => Promise.reject(new Error("no")) }),
      queue: memoryQueue({ retries: 0, retryDelay: 1 }),
      onFailed: (event) => void seen.push(`failed ${event.key}`),
    });
    disposers.push(() => storage.dispose());
    const handler = createStatusHandler(storage, { authorize: () => true });
    await storage.setItem("x", "1");
    await storage.drain();
    expect(seen).toEqual(["failed x"]);
    const text = await (await handler(new Request("http://localhost/metrics"))).text();
    expect(text).toContain('queued_storage_transfers_total{outcome="failed"} 1');
    expect(() => createStatusHandler(storage, {} as never)).toThrow(/authorize/);
    expect(() => createStatusHandler({} as never, { authorize: () => true })).toThrow(/queued storage/);
  });
});
