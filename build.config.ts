import { defineBuildConfig, type BuildConfig } from "unbuild";

// One ESM entry per public subpath; declarations alongside. Peer SDKs stay external.
const config: BuildConfig[] = defineBuildConfig({
  entries: ["src/index", "src/upstash", "src/qstash", "src/drivers/s3", "src/drivers/fs"],
  declaration: "node16",
  clean: true,
  rollup: { emitCJS: false },
  externals: ["unstorage", "@upstash/redis", "@upstash/qstash", "aws4fetch"],
});

export default config;
