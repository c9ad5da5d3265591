import type { DriverSpec } from "../../types.ts";

/**
 * `runtimeConfig.queuedStorage` of a Nitro app: JSON only, so every value can come from env at run time
 * (`NITRO_QUEUED_STORAGE_REMOTE_SECRET_ACCESS_KEY`, in Nuxt `NUXT_QUEUED_STORAGE_…`). Driver names and the kinds of
 * `queue` and `flags` are read at build time (they decide what is bundled); their options at run time.
 */
export interface QueuedStorageRuntimeConfig {
  /** Mount point: `useStorage("uploads")` reads and writes the queued storage. @default "uploads" */
  base: string;
  /** The fast tier. @default { driver: "queued-storage/drivers/fs", base: "./.data/queued-storage" } */
  local: DriverSpec;
  /** The durable tier, e.g. `{ driver: "queued-storage/drivers/s3", endpoint, bucket, accessKeyId, secretAccessKey }`. */
  remote: DriverSpec;
  /** `"memory"`: transfers run in the server process; `"qstash"`: QStash calls the webhook route. @default "memory" */
  queue: "memory" | "qstash";
  /** `"memory"`: state in the process (one instance); `"upstash"`: state in Upstash Redis (many instances). @default "memory" */
  flags: "memory" | "upstash";
  /** `"transferAndDelete"` removes the local copy after the transfer. @default "transfer" */
  task: "transfer" | "transferAndDelete";
  /** Queue nothing on write; call `transfer(key)`. @default false */
  delayed: boolean;
  /** Namespace of the state keys. @default "" */
  prefix: string;
  /** QStash: empty values fall back to env `QSTASH_TOKEN`, `QSTASH_URL`, `QSTASH_CURRENT_SIGNING_KEY`, `QSTASH_NEXT_SIGNING_KEY`. */
  qstash: {
    /** Public URL of the webhook route, e.g. `https://app.example.com/_queued-storage/transfer`. Required with `queue: "qstash"`. */
    url: string;
    token: string;
    baseUrl: string;
    currentSigningKey: string;
    nextSigningKey: string;
  };
  /** Upstash Redis: empty values fall back to env `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN`. */
  upstash: { url: string; token: string; prefix: string };
  /**
   * Serving files (`createFileHandler`: GET/HEAD, and PUT/POST with `upload` in `options`): the route is registered at
   * build time when set, and becomes the storage's `localUrl`, so `url(key)` answers `<route>/<key path>` until the
   * transfer is done.
   */
  serve: {
    /** Route prefix, e.g. `"/files"`; empty: no route. @default "" */
    route: string;
    /** Redirect (302) to the remote URL (S3 presigned or public) once a key is `remote`. @default false */
    redirect: boolean;
    /** Cache-Control of answers. @default "no-cache" */
    cacheControl: string;
    /** `"inline"`, `"attachment"` or empty (none). @default "" */
    contentDisposition: string;
    /**
     * A module whose default export holds the file handler's options that are code: `authorize`, `upload`,
     * `contentType`, per-key `cacheControl`/`contentDisposition`, `onError`, `redirect` with a status
     * (`defineFileHandlerOptions` types it). Bundled like any import: a path relative to the app's `rootDir`
     * (`"./server/file-options.ts"`), an alias of your Nitro (`"~/file-options"` in nitropack 2, `"#server/file-options"`
     * in Nuxt 4) or a package. What the module sets wins over `redirect`, `cacheControl` and `contentDisposition` here;
     * `route` stays here. Read at build time (it names code): removed from the runtime config, so no env changes it.
     * Needs `route`. Invalid options stop the server at startup with an error naming `serve.options` and this path.
     * @example "./server/file-options.ts"
     */
    options?: string;
  };
  /**
   * The operator's status page (`createStatusHandler`: page, JSON, `<route>/metrics`), registered at build time when
   * `route` is set. Reads and the Retry/Sync buttons need `Authorization: Bearer <token>` (or Basic auth with the token
   * as password, which browsers prompt for), unless `options` names a module whose default export sets `authorize`.
   */
  status: {
    /** Route of the page, e.g. `"/_queued-storage"`; empty: none. @default "" */
    route: string;
    /** The access token; set it from env (`NITRO_QUEUED_STORAGE_STATUS_TOKEN`). @default "" */
    token: string;
    /** A module whose default export is `{ authorize?, onError? }` (`defineStatusHandlerOptions`), read at build time. */
    options?: string;
  };
}

/** The defaults, with every env-overridable key present (Nitro only applies env to keys that exist). */
export function _defaultRuntimeConfig(): QueuedStorageRuntimeConfig {
  return {
    base: "uploads",
    local: { driver: "queued-storage/drivers/fs", base: "./.data/queued-storage" },
    remote: { driver: "" },
    queue: "memory",
    flags: "memory",
    task: "transfer",
    delayed: false,
    prefix: "",
    qstash: { url: "", token: "", baseUrl: "", currentSigningKey: "", nextSigningKey: "" },
    upstash: { url: "", token: "", prefix: "" },
    serve: { route: "", redirect: false, cacheControl: "no-cache", contentDisposition: "" },
    status: { route: "", token: "" },
  };
}

/** Options without their empty strings: an unset env value means "use the library's default", not "". */
export function _withoutEmpty<T extends Record<string, unknown>>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== "" && value !== undefined)) as Partial<T>;
}

/**
 * The part of a Nitro instance the module reads and writes, common to nitropack 2 and nitro 3 (typed here, not
 * imported, so the declarations need neither package installed). Values the module only passes through are `unknown`:
 * any Nitro's own `Nitro` fits.
 */
export interface NitroLike {
  /** Which Nitro runs the module: nitropack 2 sets `{ majorVersion: 2 }`; nitro 3 has none. */
  meta?: {
    /** `2` for nitropack 2 (h3 1 handlers, `nitropack/runtime`); anything else is taken for nitro 3. */
    majorVersion?: number;
  };
  /** The resolved Nitro options the module extends at setup. */
  options: {
    /** The app's root: `serve.options` paths starting with `./` or `../` are relative to it. */
    rootDir: string;
    /**
     * Read for `queuedStorage` (the module's settings, which win over its options) and written back merged. `any`, as
     * in Nitro's own types: apps and tests read their settings back out of it.
     */
    runtimeConfig: Record<string, any>;
    /** Virtual modules by id: the module adds its plugin (`#queued-storage/plugin`) here. */
    virtual: Record<string, unknown>;
    /** Plugin ids or paths: the module appends its plugin. */
    plugins: string[];
    /** Server routes: the module appends the webhook route and, with `serve.route`, the file route. */
    handlers: Array<{
      /** The route path, e.g. `/_queued-storage/transfer` or `/files/**`. */
      route?: string;
      /** The path of the module file that handles it (one of ours). */
      handler: string;
      /** The HTTP method, lower-case (`post` for the webhook); all methods when absent. */
      method?: string;
    }>;
    /** Dependencies kept out of or put into the bundle: nitropack 2 also allows functions here, so typed loosely. */
    externals?: {
      /** Modules bundled whatever else is external: the module adds its own directory (its runtime shares state). */
      inline?: unknown[];
    };
  };
}
