import { _dirOf } from "./_paths.ts";
import type { Nitro, NitroModule } from "nitropack/types";
import { _defaultRuntimeConfig, type QueuedStorageRuntimeConfig } from "./_config.ts";

export type { QueuedStorageRuntimeConfig } from "./_config.ts";

/** Options of the Nitro module; each may also be set in `runtimeConfig.queuedStorage`, which wins. */
export interface QueuedStorageNitroOptions extends Partial<Omit<QueuedStorageRuntimeConfig, "qstash" | "upstash" | "serve">> {
  /**
   * Path of the QStash webhook route, registered when `queue` is `"qstash"`; `false` to register none (mount
   * `queued-storage/h3` yourself).
   * @default "/_queued-storage/transfer"
   */
  route?: string | false;
  qstash?: Partial<QueuedStorageRuntimeConfig["qstash"]>;
  upstash?: Partial<QueuedStorageRuntimeConfig["upstash"]>;
  /**
   * Serve the stored files (GET/HEAD with ETag, 304, ranges; `createFileHandler`) under `route`, which also becomes
   * the `localUrl` of `url(key)`. The route is registered at build time; the other settings may change at run time.
   * @example { route: "/files", redirect: true }
   */
  serve?: Partial<QueuedStorageRuntimeConfig["serve"]>;
}

const PLUGIN_ID = "#queued-storage/plugin";
const DEFAULT_ROUTE = "/_queued-storage/transfer";

/**
 * The Nitro (nitropack 2.x) module: mounts a queued storage at `base` from `runtimeConfig.queuedStorage` (secrets come
 * from env at run time) and, with `queue: "qstash"`, registers the transfer webhook route.
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
export function queuedStorage(options: QueuedStorageNitroOptions = {}): NitroModule {
  return { name: "queued-storage", setup: (nitro) => _setup(nitro, options) };
}

/** The module without options, for `modules: ["queued-storage/nitro"]`: configure it in `runtimeConfig.queuedStorage`. */
const module: NitroModule = queuedStorage();
export default module;

// --- internal ---

function _setup(nitro: Nitro, options: QueuedStorageNitroOptions): void {
  const { route: routeOption, ...configOptions } = options;
  const defaults = _defaultRuntimeConfig();
  const given = (nitro.options.runtimeConfig.queuedStorage ?? {}) as Partial<QueuedStorageRuntimeConfig>;
  const config: QueuedStorageRuntimeConfig = {
    ...defaults,
    ...configOptions,
    ...given,
    qstash: { ...defaults.qstash, ...configOptions.qstash, ...given.qstash },
    upstash: { ...defaults.upstash, ...configOptions.upstash, ...given.upstash },
    serve: { ...defaults.serve, ...configOptions.serve, ...given.serve },
  };
  if (!config.remote?.driver) {
    throw new Error("[queued-storage] [nitro] set `remote` ({ driver, ...options }) in the module options or runtimeConfig.queuedStorage");
  }
  nitro.options.runtimeConfig.queuedStorage = config;

  const own = (file: string): string => _ownFile(file);
  const imports = [
    `import { defineNitroPlugin } from "nitropack/runtime";`,
    `import { _mountQueuedStorage } from ${JSON.stringify(own("adapters/_nitro-runtime"))};`,
    `import local from ${JSON.stringify(_driverImport(config.local.driver))};`,
    `import remote from ${JSON.stringify(_driverImport(config.remote.driver))};`,
    config.queue === "qstash" ? `import { qstashQueue } from ${JSON.stringify(own("qstash"))};` : "",
    config.flags === "upstash" ? `import { upstashFlags } from ${JSON.stringify(own("upstash"))};` : "",
  ];
  const factories = [
    "local, remote",
    config.queue === "qstash" ? "qstashQueue" : "",
    config.flags === "upstash" ? "upstashFlags" : "",
  ].filter(Boolean);
  nitro.options.virtual[PLUGIN_ID] = `${imports.filter(Boolean).join("\n")}
export default defineNitroPlugin(() => _mountQueuedStorage({ ${factories.join(", ")} }));
`;
  nitro.options.plugins.push(PLUGIN_ID);
  // Our runtime files import nitropack/runtime: they must be bundled, never left external in node_modules.
  const externals = (nitro.options.externals ??= {} as Nitro["options"]["externals"]);
  externals.inline = [...(externals.inline ?? []), _ownDir()];

  const route = routeOption === undefined ? DEFAULT_ROUTE : routeOption;
  if (route && config.queue === "qstash") {
    nitro.options.handlers.push({ route, method: "post", handler: own("adapters/_nitro-handler") });
  }
  const serveRoute = config.serve.route.replace(/\/+$/, "");
  if (serveRoute) {
    if (!serveRoute.startsWith("/")) throw new Error(`[queued-storage] [nitro] \`serve.route\` must start with "/", got ${JSON.stringify(config.serve.route)}`);
    nitro.options.handlers.push({ route: `${serveRoute}/**`, handler: own("adapters/_nitro-serve") });
  }
}

/** Our own entries by dist name, and where each lives in the source tree (used from source and through JSR). */
const SOURCE_FILES: Record<string, string> = {
  "adapters/_nitro-runtime": "adapters/nitro/_runtime",
  "adapters/_nitro-handler": "adapters/nitro/_handler",
  "adapters/_nitro-serve": "adapters/nitro/_serve",
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

/** A driver name as Nitro resolves storage mounts: our drivers by path, unstorage built-ins by name, else a package. */
function _driverImport(name: string): string {
  if (name === "queued-storage/drivers/s3" || name === "queued-storage/drivers/fs") return _ownFile(name.slice("queued-storage/".length));
  if (/^[a-z][a-z0-9-]*$/i.test(name)) return `unstorage/drivers/${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return name;
}
