import { defineConfig, type ViteUserConfig } from "vitest/config";

// The suites that speak to unstorage directly (the driver contract, the queued driver, the Node runtime suite), run a
// second time with `unstorage` resolved to unstorage 2 (devDependency `unstorage-v2`, an npm alias).
const UNSTORAGE_2_FILES = [
  "test/unstorage-major.test.ts",
  "test/drivers/fs/driver.test.ts",
  "test/drivers/s3/driver.test.ts",
  "test/core/storage.test.ts",
  "test/runtimes/node.test.ts",
];

const config: ViteUserConfig = defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Stand-in servers bind loopback ports and some tests measure RSS: one fork per file keeps them apart.
    pool: "forks",
    // Starts a redis-server for the run when none answers, and reaps any child process a test left behind.
    globalSetup: ["test/support/global-setup.ts"],
    projects: [
      { extends: true, test: { name: "unstorage-1", include: ["test/**/*.test.ts"] } },
      {
        extends: true,
        resolve: { alias: [{ find: /^unstorage(\/.*)?$/, replacement: "unstorage-v2$1" }] },
        test: { name: "unstorage-2", include: UNSTORAGE_2_FILES, env: { QUEUED_STORAGE_TEST_UNSTORAGE: "2" } },
      },
    ],
  },
});

export default config;
