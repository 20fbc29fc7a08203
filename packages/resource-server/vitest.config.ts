import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";
import { testBudgets, workspaceAliases } from "../../vitest.shared.ts";

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

export default defineProject({
  resolve: {
    alias: [
      // The subpath entries, ahead of the shared package-name aliases.
      { find: /^@certbound\/resource-server\/express$/, replacement: src("express.ts") },
      { find: /^@certbound\/resource-server\/fastify$/, replacement: src("fastify.ts") },
      ...workspaceAliases,
    ],
  },
  test: {
    name: "resource-server",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    ...testBudgets,
  },
});
