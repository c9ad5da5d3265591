import { defineBuildConfig, type BuildConfig } from "unbuild";

// One ESM entry per public subpath; declarations alongside. Peer SDKs and frameworks stay external.
// `name` keeps dist/ flat as the package subpaths are (dist/upstash.mjs for `queued-storage/upstash`), whatever folder
// the source lives in. The Nitro module's runtime files (_nitro-runtime, _nitro-handler, _nitro-serve) are entries too: the module
// hands their paths to Nitro, which bundles them into the app (see `_ownFile` in src/adapters/nitro/index.ts).
const config: BuildConfig[] = defineBuildConfig({
  entries: [
    { input: "src/index", name: "index" },
    { input: "src/flags/upstash", name: "upstash" },
    { input: "src/queues/qstash", name: "qstash" },
    { input: "src/drivers/s3/index", name: "drivers/s3" },
    { input: "src/drivers/fs/index", name: "drivers/fs" },
    { input: "src/transports/node-fetch", name: "node-fetch" },
    { input: "src/adapters/hono", name: "adapters/hono" },
    { input: "src/adapters/h3", name: "adapters/h3" },
    { input: "src/adapters/nitro/index", name: "adapters/nitro" },
    { input: "src/adapters/nitro/_runtime", name: "adapters/_nitro-runtime" },
    { input: "src/adapters/nitro/_handler", name: "adapters/_nitro-handler" },
    { input: "src/adapters/nitro/_handler-web", name: "adapters/_nitro-handler-web" },
    { input: "src/adapters/nitro/_serve", name: "adapters/_nitro-serve" },
    { input: "src/adapters/nitro/_serve-web", name: "adapters/_nitro-serve-web" },
    { input: "src/adapters/nitro/_status", name: "adapters/_nitro-status" },
    { input: "src/adapters/nitro/_status-web", name: "adapters/_nitro-status-web" },
    { input: "src/cli/index", name: "cli" },
  ],
  // The CLI test builds a private copy (test/cli/), so it never races a build of dist/ by another test.
  outDir: process.env.QUEUED_STORAGE_OUT_DIR || "dist",
  // A private copy is checked against package.json's `dist/…` paths, which it does not fill: that warning is expected.
  failOnWarn: !process.env.QUEUED_STORAGE_OUT_DIR,
  declaration: "node16",
  clean: true,
  rollup: { emitCJS: false },
  externals: ["c12", "citty", "unstorage", "@upstash/redis", "@upstash/qstash", "aws4fetch", "h3", "hono", /^nitropack(\/.*)?$/, /^nitro(\/.*)?$/],
});

export default config;
