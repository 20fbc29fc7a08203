import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const script = fileURLToPath(new URL("../../../scripts/ensure-chromium.mjs", import.meta.url));

it("npm test's chromium step passes when the browser is there", () => {
  const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain("/usr/bin/chromium is installed");
});

it("fails with how to install it when the browser is missing and it cannot install (not root)", () => {
  // nobody may not be able to read the checkout (a clone in a 0700 folder): run a world-readable
  // copy of the script, which imports only node: modules.
  const dir = mkdtempSync(join(tmpdir(), "certbound-ensure-"));
  const copy = join(dir, "ensure-chromium.mjs");
  copyFileSync(script, copy);
  chmodSync(dir, 0o755);
  chmodSync(copy, 0o644);
  const r = spawnSync(process.execPath, [copy, "/nonexistent/chromium"], {
    encoding: "utf8",
    // Run as nobody: the script must not try apt-get without root.
    ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}),
  });
  rmSync(dir, { recursive: true, force: true });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain("/nonexistent/chromium is missing and this is not root");
  expect(r.stderr).toContain("apt-get install -y chromium");
  expect(r.stdout).not.toContain("apt-get update");
});
