// What the packaging checks (scripts/check-packages.mjs) and the bench's footprint row
// (bench/footprint.ts) both need: the published packages, the pinned pnpm, Node's package
// resolution, and each package packed the way `changeset publish` publishes it (`pnpm pack` turns
// `workspace:^` into real ranges, `npm pack` would not) and unpacked to measure it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { pinnedPnpm } from "./pnpm.mjs";

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

/** argv prefix running the pinned pnpm (scripts/pnpm.mjs: from PATH, or project-local in .tools/pnpm). */
let pnpm;
export function pnpmCommand() {
  pnpm ??= pinnedPnpm({ log: (line) => console.error(line) }).command;
  return [pnpm];
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

/** Packs the package in `dir` into the folder `tarballs` with `pnpm pack`; returns the tarball's path. */
export function packPackage(dir, tarballs) {
  const [pnpm, ...pre] = pnpmCommand();
  mkdirSync(tarballs, { recursive: true });
  const before = new Set(readdirSync(tarballs));
  execFileSync(pnpm, [...pre, "pack", "--pack-destination", tarballs], { cwd: dir, stdio: "ignore" });
  const made = readdirSync(tarballs).find((f) => !before.has(f));
  if (!made) throw new Error(`pnpm pack made no tarball in ${dir}`);
  return join(tarballs, made);
}

/**
 * Packs every published package into the folder `tarballs` (what `pnpm run pack:all` does, into
 * .packs/). Returns the published packages, each with its `tarball`.
 */
export function packAll(tarballs) {
  return publishedPackages().map((p) => ({ ...p, tarball: packPackage(p.dir, tarballs) }));
}

/**
 * Unpacks `tarball` into `installDir`. Returns the files it holds (POSIX paths) and its packed
 * and unpacked sizes in bytes.
 */
export function unpack(tarball, installDir) {
  mkdirSync(installDir, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", installDir, "--strip-components=1"]);
  const paths = filesUnder(installDir);
  return {
    files: paths.map((f) => relative(installDir, f).split(sep).join("/")),
    packed: statSync(tarball).size,
    unpacked: paths.reduce((sum, f) => sum + statSync(f).size, 0),
  };
}

/**
 * Packs the package in `dir` into `tarballs` and unpacks it into `installDir`. Returns the
 * tarball's path, the files it holds (POSIX paths) and its packed and unpacked sizes in bytes.
 */
export function packAndUnpack(dir, tarballs, installDir) {
  const tarball = packPackage(dir, tarballs);
  return { tarball, ...unpack(tarball, installDir) };
}
