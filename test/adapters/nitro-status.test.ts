import { createStorage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { describe, expect, it } from "vitest";
import { _defaultRuntimeConfig, type QueuedStorageRuntimeConfig } from "../../src/adapters/nitro/_config.ts";
import { _mountQueuedStorage, _useControls } from "../../src/adapters/nitro/_runtime.ts";
import { _statusHandler } from "../../src/adapters/nitro/_status-options.ts";
import { defineStatusHandlerOptions, queuedStorage, type NitroLike } from "../../src/adapters/nitro/index.ts";

// The Nitro module's `status: { route, token, options }` without a Nitro build: what setup registers, and the
// runtime mount the generated plugin calls, with real memory drivers.

function nitroLike(runtimeConfig: Record<string, unknown> = {}, majorVersion?: number): NitroLike {
  return { meta: { majorVersion }, options: { rootDir: "/srv/app", runtimeConfig, virtual: {}, plugins: [], handlers: [] } };
}

function mount(status: Partial<QueuedStorageRuntimeConfig["status"]>, module?: { default?: unknown }): void {
  const config = { ..._defaultRuntimeConfig(), status: { ..._defaultRuntimeConfig().status, ...status } };
  _mountQueuedStorage(
    { local: () => memoryDriver(), remote: () => memoryDriver(), ...(module && { statusOptions: { file: "./status-options.ts", module } }) },
    { useRuntimeConfig: () => ({ queuedStorage: config }), useStorage: () => createStorage() },
  );
}

describe("adapters/nitro: status: { route }", () => {
  it("registers the page and everything under it, for nitropack 2 and nitro 3; the options module is bundled, not configured", () => {
    for (const major of [2, undefined]) {
      const nitro = nitroLike({}, major);
      queuedStorage({ remote: { driver: "memory" }, status: { route: "/_queued-storage/", options: "./status-options.ts" } }).setup(nitro);
      const handlers = nitro.options.handlers.filter((h) => h.route?.startsWith("/_queued-storage"));
      expect(handlers.map((h) => h.route)).toEqual(["/_queued-storage", "/_queued-storage/**"]);
      expect(handlers[0]!.handler).toMatch(major === 2 ? /nitro\/_status\.ts$/ : /nitro\/_status-web\.ts$/);
      expect(nitro.options.virtual["#queued-storage/plugin"]).toContain('import * as statusOptions from "/srv/app/status-options.ts"');
      expect(nitro.options.runtimeConfig.queuedStorage.status).toEqual({ route: "/_queued-storage/", token: "" });
    }
    const none = nitroLike();
    queuedStorage({ remote: { driver: "memory" } }).setup(none);
    expect(none.options.handlers).toEqual([]);
    expect(() => queuedStorage({ remote: { driver: "memory" }, status: { route: "status" } }).setup(nitroLike())).toThrow(/must start with "\/"/);
  });

  it("with a token: Bearer or Basic (the token as password) opens the page, anything else gets a 401 asking for Basic", async () => {
    mount({ route: "/_queued-storage", token: "t0ken" });
    await _useControls().transfer("nothing");
    const handler = _statusHandler();
    const get = (authorization?: string) =>
      handler(new Request("http://app.test/_queued-storage", { headers: authorization ? { authorization } : {} }));
    expect((await get()).status).toBe(401);
    expect((await get()).headers.get("www-authenticate")).toBe('Basic realm="queued-storage"');
    expect((await get("Bearer wrong")).status).toBe(401);
    expect((await get(`Basic ${btoa("ops:wrong")}`)).status).toBe(401);
    expect((await get("Basic !!!")).status).toBe(401);
    expect((await get("Bearer t0ken")).status).toBe(200);
    expect((await get(`Basic ${btoa("ops:t0ken")}`)).status).toBe(200);
    expect(await (await get("Bearer t0ken")).text()).toContain("queued-storage");
  });

  it("with an options module its authorize decides; no token and no authorize, or a bad module, stop the mount", async () => {
    mount({ route: "/ops" }, { default: defineStatusHandlerOptions({ authorize: (request) => request.headers.get("x-admin") === "yes" }) });
    expect((await _statusHandler()(new Request("http://app.test/ops"))).status).toBe(403);
    expect((await _statusHandler()(new Request("http://app.test/ops", { headers: { "x-admin": "yes" } }))).status).toBe(200);
    expect(() => mount({ route: "/ops" })).toThrow("[queued-storage] [nitro] status: set `status.token` (env NITRO_QUEUED_STORAGE_STATUS_TOKEN) or an `authorize` in `status.options`");
    expect(() => mount({ route: "/ops" }, { default: { authorise: () => true } })).toThrow('status.options ("./status-options.ts"): unknown option `authorise`');
    expect(() => mount({ route: "/ops" }, {})).toThrow("the default export must be an object");
    expect(() => mount({ route: "/ops", token: "x" }, { default: { authorize: "yes" } })).toThrow("`authorize` must be a function");
  });
});
