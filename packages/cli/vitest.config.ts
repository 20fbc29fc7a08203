import { defineProject } from "vitest/config";
import { testBudgets, workspaceAliases } from "../../vitest.shared.ts";

export default defineProject({
  resolve: { alias: workspaceAliases },
  test: {
    name: "cli",
    ...testBudgets,
    include: ["test/**/*.test.ts"],
    // The tests run the built binary (dist/cli.js); this rebuilds it first when a source is newer.
    globalSetup: ["test/build-if-stale.ts"],
  },
});
