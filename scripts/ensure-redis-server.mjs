#!/usr/bin/env node
// @certbound/cache-redis's tests start a real redis-server (Debian's `redis-server` package) on a
// free 127.0.0.1 port. `npm test` runs this first: when redis-server is missing and we are root, it
// installs the Debian package (printing what apt-get does); when we are not root, it stops with how
// to install it. The Redis tests themselves fail, never skip, without it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

// The argument only lets a test point this script at a path that does not exist.
const REDIS = process.argv[2] ?? "/usr/bin/redis-server";

function apt(args) {
  console.log(`[certbound] redis-server: apt-get ${args.join(" ")}`);
  const r = spawnSync("apt-get", args, {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (r.error) {
    console.error(`[certbound] redis-server: could not run apt-get (${r.error.message}).`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`[certbound] redis-server: apt-get ${args.join(" ")} failed (exit ${r.status}).`);
    process.exit(r.status ?? 1);
  }
}

if (existsSync(REDIS)) {
  console.log(`[certbound] redis-server: ${REDIS} is installed`);
} else if (process.getuid?.() === 0) {
  console.log(`[certbound] redis-server: ${REDIS} is missing; installing Debian's redis-server package`);
  apt(["update"]);
  apt(["install", "-y", "--no-install-recommends", "redis-server"]);
  if (!existsSync(REDIS)) {
    console.error(`[certbound] redis-server: apt-get installed redis-server but ${REDIS} is still missing.`);
    process.exit(1);
  }
  console.log(`[certbound] redis-server: installed ${REDIS}`);
} else {
  console.error(
    `[certbound] redis-server: ${REDIS} is missing and this is not root, so it cannot be installed here. ` +
      "The @certbound/cache-redis tests need it: run `sudo apt-get update && sudo apt-get install -y redis-server` " +
      "(Debian/Ubuntu), then npm test again.",
  );
  process.exit(1);
}
