#!/usr/bin/env node
// The emulator inspector's browser test drives Debian's Chromium (/usr/bin/chromium) with
// playwright-core, which never downloads a browser. `npm test` runs this first: when Chromium is
// missing and we are root, it installs the Debian package (printing what apt-get does); when we are
// not root, it stops with how to install it. The browser test itself fails, never skips, without it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

// The argument only lets this script's own test point at a path that does not exist.
const CHROMIUM = process.argv[2] ?? "/usr/bin/chromium";

function apt(args) {
  console.log(`[certbound] chromium: apt-get ${args.join(" ")}`);
  const r = spawnSync("apt-get", args, {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (r.error) {
    console.error(`[certbound] chromium: could not run apt-get (${r.error.message}).`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`[certbound] chromium: apt-get ${args.join(" ")} failed (exit ${r.status}).`);
    process.exit(r.status ?? 1);
  }
}

if (existsSync(CHROMIUM)) {
  console.log(`[certbound] chromium: ${CHROMIUM} is installed`);
} else if (process.getuid?.() === 0) {
  console.log(`[certbound] chromium: ${CHROMIUM} is missing; installing Debian's chromium package`);
  apt(["update"]);
  apt(["install", "-y", "chromium"]);
  if (!existsSync(CHROMIUM)) {
    console.error(`[certbound] chromium: apt-get installed chromium but ${CHROMIUM} is still missing.`);
    process.exit(1);
  }
  console.log(`[certbound] chromium: installed ${CHROMIUM}`);
} else {
  console.error(
    `[certbound] chromium: ${CHROMIUM} is missing and this is not root, so it cannot be installed here. ` +
      "The emulator inspector's browser test needs it: run `sudo apt-get update && sudo apt-get install -y chromium` " +
      "(Debian/Ubuntu), then npm test again.",
  );
  process.exit(1);
}
