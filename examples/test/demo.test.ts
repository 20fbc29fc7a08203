import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("the demo prints both reports with every check passed and exits 0", () => {
  const cwd = fileURLToPath(new URL("..", import.meta.url));
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/demo.ts"], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  expect(run.stdout).toContain("1. Managed identity");
  expect(run.stdout).toContain("2. Confidential client");
  expect(run.stdout).toContain("All checks passed");
  expect(run.stdout).not.toContain("✗");
  // six checks per flow, plus "binding certificate is the app's own certificate"
  expect(run.stdout.match(/✓/g)?.length).toBe(13);
});
