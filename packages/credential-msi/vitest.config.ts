import { defineProject } from "vitest/config";
import { testBudgets, workspaceAliases } from "../../vitest.shared.ts";

export default defineProject({
  resolve: { alias: workspaceAliases },
  test: { name: "credential-msi", ...testBudgets, include: ["src/**/*.test.ts", "test/**/*.test.ts"] },
});
