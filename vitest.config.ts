import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Stand-in servers bind loopback ports; one fork per file keeps them apart.
    pool: "forks",
  },
});
