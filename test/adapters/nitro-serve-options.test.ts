import { createStorage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { describe, expect, it } from "vitest";
import { _defaultRuntimeConfig, type QueuedStorageRuntimeConfig } from "../../src/adapters/nitro/_config.ts";
import { _mountQueuedStorage, _serveOptions } from "../../src/adapters/nitro/_runtime.ts";
import { defineFileHandlerOptions, queuedStorage, type NitroLike } from "../../src/adapters/nitro/index.ts";

// `serve.options` without a Nitro build: the module's setup against a plain Nitro-shaped object (what it writes into
// the options), and the runtime mount the generated plugin calls, with real unstorage memory drivers. The built apps
// (test/adapters/nitro.test.ts) show the options at work over HTTP.

const ROOT = "/srv/app";

function nitroLike(runtimeConfig: Record<string, unknown> = {}, majorVersion?: number): NitroLike {
  return {
    meta: { majorVersion },
    options: { rootDir: ROOT, runtimeConfig, virtual: {}, plugins: [], handlers: [] },
  };
}

/** Mount as the generated plugin does, with `serve.route` "/files" and `module` as the imported serve.options module. */
function mount(module: { default?: unknown }, serve: Partial<QueuedStorageRuntimeConfig["serve"]> = {}): void {
  const queuedStorageConfig = { ..._defaultRuntimeConfig(), serve: { ..._defaultRuntimeConfig().serve, route: "/files", ...serve } };
  _mountQueuedStorage(
    { local: () => memoryDriver(), remote: () => memoryDriver(), serveOptions: { file: "./server/file-options.ts", module } },
    { useRuntimeConfig: () => ({ queuedStorage: queuedStorageConfig }), useStorage: () => createStorage() },
  );
}

describe("adapters/nitro: serve.options at startup", () => {
  it("upload without authorize stops the mount with an error naming serve.options and the file", () => {
    expect(() => mount({ default: { upload: true } })).toThrow(
      '[queued-storage] [nitro] serve.options ("./server/file-options.ts"): createFileHandler: option `upload` needs `authorize',
    );
  });

  it("a default export that is no options object, a missing one, `route`, a misspelt key or a non-function authorize fail the same way", () => {
    const cases: Array<[{ default?: unknown }, string]> = [
      [{}, "the default export must be an object of file handler options (export default defineFileHandlerOptions({ … })), got no default export"],
      [{ default: () => ({}) }, "got function"],
      [{ default: [] }, "got an array"],
      [{ default: null }, "got null"],
      [{ default: { route: "/other" } }, "`route` is not an option here"],
      [{ default: { authorise: () => true } }, "unknown option `authorise`"],
      [{ default: { authorize: true } }, "`authorize` must be a function"],
      [{ default: { redirect: { status: 200 } } }, "option `redirect.status` must be 301, 302, 303, 307 or 308"],
    ];
    for (const [module, message] of cases) {
      expect(() => mount(module), JSON.stringify(module.default)).toThrow(/^\[queued-storage\] \[nitro\] serve\.options \("\.\/server\/file-options\.ts"\): /);
      expect(() => mount(module)).toThrow(message);
    }
  });

  it("what the file sets wins over the config; what it leaves out (or sets undefined) comes from the config; the route always from the config", () => {
    const authorize = (): boolean => true;
    mount({ default: defineFileHandlerOptions({ authorize, upload: { maxBytes: 10 }, cacheControl: "private", contentDisposition: undefined, onError: undefined }) }, {
      cacheControl: "public, max-age=60",
      contentDisposition: "attachment",
      redirect: true,
    });
    expect(_serveOptions()).toEqual({ route: "/files", authorize, upload: { maxBytes: 10 }, cacheControl: "private", contentDisposition: "attachment", redirect: true });
    // Without a serve.options module the config alone, as before.
    _mountQueuedStorage(
      { local: () => memoryDriver(), remote: () => memoryDriver() },
      { useRuntimeConfig: () => ({ queuedStorage: { ..._defaultRuntimeConfig(), serve: { ..._defaultRuntimeConfig().serve, route: "/files" } } }), useStorage: () => createStorage() },
    );
    expect(_serveOptions()).toEqual({ route: "/files", redirect: false, cacheControl: "no-cache", contentDisposition: undefined });
  });
});

describe("adapters/nitro: serve.options at build time (the module's setup)", () => {
  const remote = { driver: "memory" };

  it("a relative path is imported from rootDir, handed to the plugin with its name, and kept out of the runtime config", () => {
    for (const major of [2, undefined]) {
      const nitro = nitroLike({ queuedStorage: { remote, serve: { route: "/files", options: "./server/file-options.ts" } } }, major);
      queuedStorage().setup(nitro);
      const plugin = nitro.options.virtual["#queued-storage/plugin"] as string;
      expect(plugin).toContain(`import * as serveOptions from "${ROOT}/server/file-options.ts";`);
      expect(plugin).toContain(`serveOptions: { file: "./server/file-options.ts", module: serveOptions }`);
      expect(nitro.options.runtimeConfig.queuedStorage.serve).toEqual({ route: "/files", redirect: false, cacheControl: "no-cache", contentDisposition: "" });
    }
  });

  it("an alias or package is left to Nitro's bundler; runtimeConfig wins over the module option", () => {
    const nitro = nitroLike({ queuedStorage: { serve: { options: "~/file-options" } } });
    queuedStorage({ remote, serve: { route: "/files", options: "./ignored.ts" } }).setup(nitro);
    expect(nitro.options.virtual["#queued-storage/plugin"]).toContain('import * as serveOptions from "~/file-options";');
    expect(nitro.options.virtual["#queued-storage/plugin"]).not.toContain("ignored");
  });

  it("without serve.options the plugin imports nothing more; serve.options without a route or not a path fails the build", () => {
    const plain = nitroLike({ queuedStorage: { remote, serve: { route: "/files" } } });
    queuedStorage().setup(plain);
    expect(plain.options.virtual["#queued-storage/plugin"]).not.toContain("serveOptions");
    expect(() => queuedStorage({ remote, serve: { options: "./server/file-options.ts" } }).setup(nitroLike())).toThrow(
      '`serve.options` must be a module path (e.g. "./server/file-options.ts") and needs `serve.route`, got "./server/file-options.ts" without a route',
    );
    expect(() => queuedStorage({ remote, serve: { route: "/files", options: { authorize: () => true } as never } }).setup(nitroLike())).toThrow(
      "`serve.options` must be a module path",
    );
  });
});
