// Install footprint: what `pnpm pack` would publish for each certbound package, and what
// @azure/msal-node occupies once installed with its production dependencies.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error: a plain .mjs script without type declarations
import { packAndUnpack, publishedPackages, resolvePackageDir, root } from "../scripts/workspace-packages.mjs";

interface PublishedPackage {
  dir: string;
  folder: string;
  manifest: { name: string };
}

export interface PackedSize {
  name: string;
  /** Bytes of the .tgz. */
  packed: number;
  /** Bytes of the files in it. */
  unpacked: number;
  files: number;
}

export interface InstalledSize {
  name: string;
  /** Bytes of every file of the package and of its transitive production dependencies. */
  bytes: number;
  packages: { name: string; version: string; bytes: number }[];
}

export interface Footprint {
  packages: PackedSize[];
  /** core + credential-cert + http-undici: the install of an app using the certificate credential. */
  certSet: { names: string[]; packed: number; unpacked: number; withDependencies: InstalledSize };
  msalNode: InstalledSize;
  method: string;
}

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const readManifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;

/**
 * The tarball `pnpm pack` makes for each published package (what `changeset publish` publishes
 * here), measured exactly as scripts/check-packages.mjs budgets it: its size, and the sum of the
 * sizes of the files in it.
 */
export function packedSizes(): PackedSize[] {
  const out = mkdtempSync(join(tmpdir(), "certbound-footprint-"));
  try {
    return (publishedPackages() as PublishedPackage[]).map((p) => {
      const packed = packAndUnpack(p.dir, out, join(out, "unpacked", p.folder)) as {
        files: string[];
        packed: number;
        unpacked: number;
      };
      return {
        name: p.manifest.name,
        packed: packed.packed,
        unpacked: packed.unpacked,
        files: packed.files.length,
      };
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Sum of file sizes under `dir`, not following links and not entering nested node_modules. */
function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += lstatSync(path).size;
  }
  return total;
}

/**
 * A package plus its transitive `dependencies` and `optionalDependencies` (not peers, not dev) as
 * pnpm installed them: each one's folder is found the way Node resolves it (in pnpm's layout the
 * dependencies sit next to the package in node_modules/.pnpm/<id>/node_modules), counted once.
 */
export function installedSize(
  name: string,
  fromDir: string,
  skip: ReadonlySet<string> = new Set(),
): InstalledSize {
  const seen = new Map<string, { name: string; version: string; bytes: number }>();
  const visit = (dep: string, from: string) => {
    if (skip.has(dep)) return;
    const dir = resolvePackageDir(dep, from) as string | undefined;
    if (!dir) {
      throw new Error(`${dep} (needed by ${from}) is not installed: run pnpm install`);
    }
    if (seen.has(dir)) return;
    const manifest = readManifest(dir);
    seen.set(dir, { name: manifest.name, version: manifest.version, bytes: folderBytes(dir) });
    for (const child of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      visit(child, dir);
    }
  };
  visit(name, fromDir);
  const packages = [...seen.values()].sort((a, b) => b.bytes - a.bytes);
  return { name, bytes: packages.reduce((sum, p) => sum + p.bytes, 0), packages };
}

export async function measureFootprint(): Promise<Footprint> {
  const packages = packedSizes();
  const names = ["@certbound/core", "@certbound/credential-cert", "@certbound/http-undici"];
  const set = packages.filter((p) => names.includes(p.name));
  if (set.length !== names.length) throw new Error(`missing packages among ${names.join(", ")}`);
  // The set's third-party runtime dependencies (none today), installed like msal-node's. Peers are
  // not counted: undici is the app's own choice (msal-node uses Node's built-in fetch instead), and
  // node-forge, an optional peer of credential-cert, is needed only to read PFX files: an app with
  // PEM certificates neither installs nor loads it.
  const thirdParty = new Set<string>();
  for (const n of names) {
    const manifest = readManifest(join(root, "packages", n.replace("@certbound/", "")));
    for (const dep of Object.keys(manifest.dependencies ?? {}))
      if (!dep.startsWith("@certbound/")) thirdParty.add(dep);
  }
  const depSizes = [...thirdParty].map((dep) =>
    installedSize(dep, join(root, "packages", "credential-cert")),
  );
  const unpacked = set.reduce((s, p) => s + p.unpacked, 0);
  const withDependencies: InstalledSize = {
    name: "core + credential-cert + http-undici + runtime dependencies",
    bytes: unpacked + depSizes.reduce((s, d) => s + d.bytes, 0),
    packages: [
      ...set.map((p) => ({ name: p.name, version: "workspace", bytes: p.unpacked })),
      ...depSizes.flatMap((d) => d.packages),
    ],
  };
  return {
    packages,
    certSet: { names, packed: set.reduce((s, p) => s + p.packed, 0), unpacked, withDependencies },
    msalNode: installedSize("@azure/msal-node", join(root, "bench")),
    method:
      "certbound: `pnpm pack` per package (packed = .tgz bytes, unpacked = sum of the sizes of the files in it). " +
      "Installed sizes: the package and its transitive dependencies + optionalDependencies (no peers, no dev), " +
      "each folder resolved like Node does from node_modules/.pnpm and counted once, summing the sizes of its files " +
      "(nested node_modules excluded).",
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureFootprint(), null, 2));
}
