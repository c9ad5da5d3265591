import { defineBuildConfig, type BuildConfig } from "unbuild";

// One ESM entry per public subpath; declarations alongside. Peer SDKs and frameworks stay external.
// The Nitro module's runtime files (_nitro-runtime, _nitro-handler) are entries too: the module hands their paths to
// Nitro, which bundles them into the app.
const config: BuildConfig[] = defineBuildConfig({
  entries: [
    "src/index",
    "src/upstash",
    "src/qstash",
    "src/drivers/s3",
    "src/drivers/fs",
    "src/adapters/hono",
    "src/adapters/h3",
    "src/adapters/nitro",
    "src/adapters/_nitro-runtime",
    "src/adapters/_nitro-handler",
  ],
  declaration: "node16",
  clean: true,
  rollup: { emitCJS: false },
  externals: ["unstorage", "@upstash/redis", "@upstash/qstash", "aws4fetch", "h3", "hono", /^nitropack(\/.*)?$/],
});

export default config;
