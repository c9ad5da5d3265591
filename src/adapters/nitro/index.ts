import { _dirOf, _resolveIn } from "../../_node/paths.ts";
import { _defaultRuntimeConfig, type NitroLike, type QueuedStorageRuntimeConfig } from "./_config.ts";
import { _error } from "../../_errors.ts";

export type { NitroLike, QueuedStorageRuntimeConfig } from "./_config.ts";
export { defineFileHandlerOptions, type NitroFileHandlerOptions } from "./_options.ts";
export { defineStatusHandlerOptions, type NitroStatusHandlerOptions } from "./_status-options.ts";

/** Options of the Nitro module; each may also be set in `runtimeConfig.queuedStorage`, which wins. */
export interface QueuedStorageNitroOptions extends Partial<Omit<QueuedStorageRuntimeConfig, "qstash" | "upstash" | "serve" | "status">> {
  /**
   * Path of the QStash webhook route, registered when `queue` is `"qstash"`; `false` to register none (mount
   * `queued-storage/h3` yourself).
   * @default "/_queued-storage/transfer"
   */
  route?: string | false;
  /**
   * Missing service credentials (QStash, Upstash, the S3 remote's endpoint, bucket and keys) stop the server at
   * startup with an error naming them. Without it, the server starts on the in-process queue and state (and an fs
   * remote in `./.data/remote` for an S3 remote without endpoint or bucket), with one warning naming what is missing.
   * @default false
   */
  production?: boolean;
  qstash?: Partial<QueuedStorageRuntimeConfig["qstash"]>;
  upstash?: Partial<QueuedStorageRuntimeConfig["upstash"]>;
  /**
   * Serve the stored files (GET/HEAD with ETag, 304, ranges; `createFileHandler`) under `route`, which also becomes
   * the `localUrl` of `url(key)`. The route and `options` (a module of code options: `authorize`, `upload`, …) are
   * read at build time; the other settings may change at run time, except where `options` sets them (it wins).
   * @example { route: "/files", redirect: true, options: "./server/file-options.ts" }
   */
  serve?: Partial<QueuedStorageRuntimeConfig["serve"]>;
  /**
   * The operator's status page at `route` (page, JSON, `<route>/metrics`), behind `token` (from env) or the
   * `authorize` of the `options` module.
   * @example { route: "/_queued-storage" } // NITRO_QUEUED_STORAGE_STATUS_TOKEN=…
   */
  status?: Partial<QueuedStorageRuntimeConfig["status"]>;
}

/** A Nitro module, as nitropack 2's and nitro 3's `modules` take it. */
export interface QueuedStorageNitroModule {
  name: string;
  setup: (this: void, nitro: NitroLike) => void;
}

const PLUGIN_ID = "#queued-storage/plugin";
const DEFAULT_ROUTE = "/_queued-storage/transfer";

/**
 * The Nitro module, for nitropack 2 (and Nuxt 3/4) and nitro 3: mounts a queued storage at `base` from `runtimeConfig.queuedStorage` (secrets come
 * from env at run time) and, with `queue: "qstash"`, registers the transfer webhook route. With `serve: { route }` it
 * serves the stored files there; `serve.options` names a module of code options for that route (`authorize`,
 * `upload`, …: see `defineFileHandlerOptions`).
 *
 * @example
 * // nitro.config.ts
 * import queuedStorage from "queued-storage/nitro";
 * export default defineNitroConfig({
 *   modules: [queuedStorage({ base: "uploads", queue: "qstash", flags: "upstash" })],
 *   runtimeConfig: { queuedStorage: { remote: { driver: "queued-storage/drivers/s3", endpoint: "", bucket: "", accessKeyId: "", secretAccessKey: "" } } },
 * });
 * // a route: await useStorage("uploads").setItemRaw(key, getRequestWebStream(event));
 */
export function queuedStorage(options: QueuedStorageNitroOptions = {}): QueuedStorageNitroModule {
  return { name: "queued-storage", setup: (nitro) => _setup(nitro, options) };
}

/** The module without options, for `modules: ["queued-storage/nitro"]`: configure it in `runtimeConfig.queuedStorage`. */
const module: QueuedStorageNitroModule = queuedStorage();
export default module;

// --- internal ---

function _setup(nitro: NitroLike, options: QueuedStorageNitroOptions): void {
  // nitropack 2 names its major; nitro 3 runs h3 2 and exports its runtime as `nitro/runtime`.
  const nitro3 = nitro.meta?.majorVersion !== 2;
  const runtime = nitro3 ? "nitro/runtime" : "nitropack/runtime";
  const { route: routeOption, production, ...configOptions } = options;
  const defaults = _defaultRuntimeConfig();
  const given = (nitro.options.runtimeConfig.queuedStorage ?? {}) as Partial<QueuedStorageRuntimeConfig>;
  const config: QueuedStorageRuntimeConfig = {
    ...defaults,
    ...configOptions,
    ...given,
    qstash: { ...defaults.qstash, ...configOptions.qstash, ...given.qstash },
    upstash: { ...defaults.upstash, ...configOptions.upstash, ...given.upstash },
    serve: { ...defaults.serve, ...configOptions.serve, ...given.serve },
    status: { ...defaults.status, ...configOptions.status, ...given.status },
  };
  if (!config.remote?.driver) {
    throw _error("set `remote` ({ driver, ...options }) in the module options or runtimeConfig.queuedStorage", { scope: "nitro" });
  }
  // `serve.options` names code to bundle: used here, then left out of the runtime config so no env value can seem to change it.
  const { options: serveOptions, ...serve } = config.serve;
  config.serve = serve;
  nitro.options.runtimeConfig.queuedStorage = config;
  const serveRoute = config.serve.route.replace(/\/+$/, "");
  if (serveOptions !== undefined && (typeof serveOptions !== "string" || !serveOptions || !serveRoute)) {
    throw _error(`\`serve.options\` must be a module path (e.g. "./server/file-options.ts") and needs \`serve.route\`, got ${JSON.stringify(serveOptions)}${serveRoute ? "" : " without a route"}`, { scope: "nitro" });
  }

  // --- status page (issue 21): like serve, its `options` module is code, bundled and left out of the runtime config ---
  const { options: statusOptions, ...status } = config.status;
  config.status = status;
  const statusRoute = status.route.replace(/\/+$/, "");
  if (statusRoute && !statusRoute.startsWith("/")) throw new Error(`[queued-storage] [nitro] \`status.route\` must start with "/", got ${JSON.stringify(status.route)}`);
  if (statusOptions !== undefined && (typeof statusOptions !== "string" || !statusOptions || !statusRoute)) {
    throw new Error(`[queued-storage] [nitro] \`status.options\` must be a module path and needs \`status.route\`, got ${JSON.stringify(statusOptions)}`);
  }

  const own = (file: string): string => _ownFile(file);
  // Without `production`, an S3 remote missing its endpoint or bucket falls back to the fs driver: bundle it.
  const fallback = !production && config.remote.driver === "queued-storage/drivers/s3";
  const imports = [
    `import { defineNitroPlugin, useRuntimeConfig, useStorage } from ${JSON.stringify(runtime)};`,
    `import { _mountQueuedStorage } from ${JSON.stringify(own("adapters/_nitro-runtime"))};`,
    `import local from ${JSON.stringify(_driverImport(config.local.driver))};`,
    `import remote from ${JSON.stringify(_driverImport(config.remote.driver))};`,
    config.queue === "qstash" ? `import { qstashQueue } from ${JSON.stringify(own("qstash"))};` : "",
    config.flags === "upstash" ? `import { upstashFlags } from ${JSON.stringify(own("upstash"))};` : "",
    // A whole-module import: a missing default export is reported at startup by the runtime, naming serve.options.
    serveOptions ? `import * as serveOptions from ${JSON.stringify(_userModule(serveOptions, nitro.options.rootDir))};` : "",
    fallback ? `import fallbackRemote from ${JSON.stringify(own("drivers/fs"))};` : "",
    statusOptions ? `import * as statusOptions from ${JSON.stringify(_userModule(statusOptions, nitro.options.rootDir))};` : "",
  ];
  const factories = [
    "local, remote",
    config.queue === "qstash" ? "qstashQueue" : "",
    config.flags === "upstash" ? "upstashFlags" : "",
    serveOptions ? `serveOptions: { file: ${JSON.stringify(serveOptions)}, module: serveOptions }` : "",
    fallback ? "fallbackRemote" : "",
    production ? "production: true" : "",
    statusOptions ? `statusOptions: { file: ${JSON.stringify(statusOptions)}, module: statusOptions }` : "",
  ].filter(Boolean);
  nitro.options.virtual[PLUGIN_ID] = `${imports.filter(Boolean).join("\n")}
export default defineNitroPlugin(() => _mountQueuedStorage({ ${factories.join(", ")} }, { useRuntimeConfig, useStorage }));
`;
  nitro.options.plugins.push(PLUGIN_ID);
  // Our runtime files share module state (the mounted controls) with the webhook: bundled, never left external.
  const externals = (nitro.options.externals ??= {});
  externals.inline = [...(externals.inline ?? []), _ownDir()];

  const route = routeOption === undefined ? DEFAULT_ROUTE : routeOption;
  if (route && config.queue === "qstash") {
    // Nitro 3's handler reads h3 2's `event.req`; nitropack 2's converts with h3 1. Neither bundles the other h3.
    nitro.options.handlers.push({ route, method: "post", handler: own(nitro3 ? "adapters/_nitro-handler-web" : "adapters/_nitro-handler") });
  }
  if (serveRoute) {
    if (!serveRoute.startsWith("/")) throw _error(`\`serve.route\` must start with "/", got ${JSON.stringify(config.serve.route)}`, { scope: "nitro" });
    nitro.options.handlers.push({ route: `${serveRoute}/**`, handler: own(nitro3 ? "adapters/_nitro-serve-web" : "adapters/_nitro-serve") });
  }
  if (statusRoute) {
    const handler = own(nitro3 ? "adapters/_nitro-status-web" : "adapters/_nitro-status");
    nitro.options.handlers.push({ route: statusRoute, handler }, { route: `${statusRoute}/**`, handler });
  }
}

/** Our own entries by dist name, and where each lives in the source tree (used from source and through JSR). */
const SOURCE_FILES: Record<string, string> = {
  "adapters/_nitro-runtime": "adapters/nitro/_runtime",
  "adapters/_nitro-handler": "adapters/nitro/_handler",
  "adapters/_nitro-handler-web": "adapters/nitro/_handler-web",
  "adapters/_nitro-serve": "adapters/nitro/_serve",
  "adapters/_nitro-serve-web": "adapters/nitro/_serve-web",
  "adapters/_nitro-status": "adapters/nitro/_status",
  "adapters/_nitro-status-web": "adapters/nitro/_status-web",
  qstash: "queues/qstash",
  upstash: "flags/upstash",
  "drivers/s3": "drivers/s3/index",
  "drivers/fs": "drivers/fs/index",
};

/** Whether this module runs from the flat `dist/*.mjs` build (npm) rather than the source tree (`src/*.ts`, JSR). */
const FROM_DIST: boolean = import.meta.url.endsWith(".mjs");

/** The root of our own modules: `dist/` from npm, `src/` from source (and JSR, whose npm layer keeps the tree). */
function _ownDir(): string {
  return _dirOf(new URL(FROM_DIST ? "../" : "../../", import.meta.url));
}

function _ownFile(file: string): string {
  const extension = /\.[cm]?[jt]s$/.exec(import.meta.url)?.[0] ?? ".mjs";
  return `${_ownDir()}${FROM_DIST ? file : (SOURCE_FILES[file] ?? file)}${extension}`;
}

/**
 * The import of the `serve.options` module. Nitro's bundler resolves imports of a virtual module like any other
 * (aliases, packages, absolute paths), except relative ones: the virtual module has no directory of its own, so those
 * are made absolute against the app's root here.
 */
function _userModule(path: string, rootDir: string): string {
  return /^\.\.?([/\\]|$)/.test(path) ? _resolveIn(rootDir, path) : path;
}

/** A driver name as Nitro resolves storage mounts: our drivers by path, unstorage built-ins by name, else a package. */
function _driverImport(name: string): string {
  if (name === "queued-storage/drivers/s3" || name === "queued-storage/drivers/fs") return _ownFile(name.slice("queued-storage/".length));
  if (/^[a-z][a-z0-9-]*$/i.test(name)) return `unstorage/drivers/${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return name;
}
