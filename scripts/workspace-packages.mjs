// What the packaging checks (scripts/check-packages.mjs) and the bench's footprint row
// (bench/footprint.ts) both need: the published packages, the pinned pnpm, Node's package
// resolution, and each package packed the way `changeset publish` publishes it (`pnpm pack` turns
// `workspace:^` into real ranges, `npm pack` would not) and unpacked to measure it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));

/** The published (non-private) packages under packages/: `{ dir, folder, manifest }`. */
export function publishedPackages() {
  return readdirSync(join(root, "packages"))
    .map((name) => ({ dir: join(root, "packages", name), folder: name }))
    .filter((p) => existsSync(join(p.dir, "package.json")))
    .map((p) => ({ ...p, manifest: readJson(join(p.dir, "package.json")) }))
    .filter((p) => !p.manifest.private);
}

/** argv prefix running the pinned pnpm (as scripts/run.mjs gets it). */
export function pnpmCommand() {
  const wanted = readJson(join(root, "package.json")).packageManager.split("@")[1];
  try {
    if (execFileSync("pnpm", ["--version"], { encoding: "utf8" }).trim() === wanted) return ["pnpm"];
  } catch {
    // not on PATH
  }
  return ["npx", "-y", `pnpm@${wanted}`];
}

/** Where Node would find `name` starting from `fromDir` (climbing node_modules folders), as a real path. */
export function resolvePackageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

export function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/**
 * Packs the package in `dir` into `tarballs` and unpacks it into `installDir`. Returns the
 * tarball's path, the files it holds (POSIX paths) and its packed and unpacked sizes in bytes.
 */
export function packAndUnpack(dir, tarballs, installDir) {
  const [pnpm, ...pre] = pnpmCommand();
  const before = new Set(readdirSync(tarballs));
  execFileSync(pnpm, [...pre, "pack", "--pack-destination", tarballs], { cwd: dir, stdio: "ignore" });
  const made = readdirSync(tarballs).find((f) => !before.has(f));
  if (!made) throw new Error(`pnpm pack made no tarball in ${dir}`);
  const tarball = join(tarballs, made);
  mkdirSync(installDir, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", installDir, "--strip-components=1"]);
  const paths = filesUnder(installDir);
  return {
    tarball,
    files: paths.map((f) => relative(installDir, f).split(sep).join("/")),
    packed: statSync(tarball).size,
    unpacked: paths.reduce((sum, f) => sum + statSync(f).size, 0),
  };
}
