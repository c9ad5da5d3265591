import { defineConfig, type ViteUserConfig } from "vitest/config";

const config: ViteUserConfig = defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Stand-in servers bind loopback ports and some tests measure RSS: one fork per file keeps them apart.
    pool: "forks",
  },
});

export default config;
