import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      "packages/*/vitest.config.ts",
      "examples/vitest.config.ts",
      "reliability/vitest.config.ts",
      "interop/vitest.config.ts",
    ],
    // Real sockets and TLS handshakes on two cores: generous per-test budget, never a sleep.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
