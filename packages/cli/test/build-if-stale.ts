// The tests run the built binary, as users do. CI builds before testing; locally this rebuilds
// the package when a source file is newer than dist/cli.js, so a test never runs stale code.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  const built = join(packageDir, "dist", "cli.js");
  const sources = Math.max(
    newestSource(join(packageDir, "src")),
    statSync(join(packageDir, "package.json")).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const rollup = join(packageDir, "..", "..", "node_modules", "rollup", "dist", "bin", "rollup");
  execFileSync(process.execPath, [rollup, "-c", "rollup.config.mjs"], { cwd: packageDir, stdio: "inherit" });
}
