import { defineProject } from "vitest/config";
import { testBudgets, workspaceAliases } from "../vitest.shared.ts";

export default defineProject({
  resolve: { alias: workspaceAliases },
  test: { name: "reliability", ...testBudgets, include: ["test/**/*.test.ts"] },
});
