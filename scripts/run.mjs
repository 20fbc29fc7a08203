#!/usr/bin/env node
// The README's two commands (`npm run demo`, `npm test`) land here. On a fresh machine that has
// only Node 20 and npm, this gets the pinned pnpm (project-local, see scripts/pnpm.mjs), installs from the lockfile, builds, and runs.
// Each step's output streams through; the first failing step ends the run with its exit code.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_PNPM_DIR, PNPM_VERSION, pinnedPnpm, withPnpmOnPath } from "./pnpm.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", TURBO_NO_UPDATE_NOTIFIER: "1" };

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env, ...options });
  return r.status ?? 1;
}

function must(label, cmd, args) {
  const started = Date.now();
  const status = run(cmd, args);
  console.log(
    `[certbound] ${label}: ${status === 0 ? "ok" : `failed (exit ${status})`} in ${Date.now() - started} ms`,
  );
  if (status !== 0) process.exit(status);
}

/** Returns the argv prefix that runs the pinned pnpm (scripts/pnpm.mjs: PATH or .tools/pnpm). */
let pinned;
function pnpm() {
  if (!pinned) {
    try {
      pinned = pinnedPnpm({ env });
    } catch (error) {
      console.error(`[certbound] ${error.message}`);
      process.exit(1);
    }
    if (pinned.binDir) {
      // turbo and pnpm's own scripts call `pnpm` by name: let them find the same one.
      env = withPnpmOnPath(env, pinned.binDir);
      console.log(`[certbound] using pnpm ${PNPM_VERSION} from ${LOCAL_PNPM_DIR}/`);
    }
  }
  return [pinned.command];
}

function prepare() {
  const [cmd, ...pre] = pnpm();
  const p = (label, ...args) => must(label, cmd, [...pre, ...args]);
  p("install", "install", "--frozen-lockfile", "--prefer-offline");
  p("build", "exec", "turbo", "run", "build", "--output-logs=errors-only");
  return p;
}

const task = process.argv[2];
if (task === "test") {
  const p = prepare();
  p("lint", "exec", "biome", "check", ".");
  p("typecheck", "exec", "tsc", "-p", "tsconfig.json", "--noEmit");
  p("packages", "exec", "node", "scripts/check-packages.mjs");
  // The built .d.ts against the committed API reports (packages/*/api/): refresh with `pnpm run api:update`.
  p("api reports", "exec", "node", "scripts/check-api.mjs");
  // The emulator inspector's browser test needs Debian's Chromium: installed here, never skipped.
  must("chromium", process.execPath, ["scripts/ensure-chromium.mjs"]);
  // @certbound/cache-redis's tests start a real redis-server: installed here, never skipped.
  must("redis-server", process.execPath, ["scripts/ensure-redis-server.mjs"]);
  mkdirSync(join(root, ".ci/out"), { recursive: true });
  const [cmd, ...pre] = pnpm();
  const status = run(cmd, [
    ...pre,
    "exec",
    "vitest",
    "run",
    "--reporter=default",
    "--reporter=json",
    "--outputFile.json=.ci/out/vitest.json",
  ]);
  const report = join(root, ".ci/out/vitest.json");
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, "utf8"));
    const failed = r.numFailedTests + countFilesFailedWithoutATest(r);
    console.log(
      `${r.numPassedTests} passed, ${failed} failed${r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""}`,
    );
  } else {
    console.log("0 passed, 1 failed");
  }
  process.exit(status);
} else if (task === "demo") {
  const p = prepare();
  p("demo", "--filter", "@certbound/examples", "run", "demo");
} else if (task === "bench") {
  const p = prepare();
  p("bench", "--filter", "@certbound/bench", "run", "bench");
} else {
  console.error("usage: node scripts/run.mjs <test|demo|bench>");
  process.exit(2);
}

// A test file that failed without a failing test (it did not load, or a hook threw) counts as one
// failure; a file whose tests failed is counted by its tests. vitest's numFailedTestSuites also
// counts describe blocks, so it cannot be used here: one failed test inside a describe printed
// "2 failed".
function countFilesFailedWithoutATest(r) {
  return r.testResults.filter(
    (file) => file.status === "failed" && !file.assertionResults.some((a) => a.status === "failed"),
  ).length;
}
