#!/usr/bin/env node
// `pnpm run pack:all`: packs every published package (packages/*, not private) into .packs/ the
// way `changeset publish` publishes them. `pnpm pack` turns `workspace:^` ranges into real
// versions; a plain `npm pack` in a package leaves `workspace:^` in place and its tarball does not
// install. The packaging checks (scripts/check-packages.mjs) install the tarballs the same code
// makes into a project of their own with npm. Run `pnpm build` first.
//
//   node scripts/pack-all.mjs [folder]     default folder: .packs
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { packAll, publishedPackages, root } from "./workspace-packages.mjs";

const folder = resolve(root, process.argv[2] ?? ".packs");
const unbuilt = publishedPackages().filter((p) => !existsSync(join(p.dir, "dist")));
if (unbuilt.length > 0) {
  console.error(`not built: ${unbuilt.map((p) => p.manifest.name).join(", ")}; run \`pnpm build\` first`);
  process.exit(1);
}
// Old tarballs (other versions) would be installed along with the new ones by `npm install <folder>/*.tgz`.
mkdirSync(folder, { recursive: true });
for (const f of readdirSync(folder)) if (f.endsWith(".tgz")) rmSync(join(folder, f));
const packed = packAll(folder);
for (const p of packed) console.log(`${p.manifest.name}@${p.manifest.version}  ${relative(root, p.tarball)}`);
console.log(`\nTry them in a project of your own (peers: undici@7 for http-undici, axios@1 for http-axios, express@5 or fastify@5 for resource-server's entries):
  npm install ${join(folder, "*.tgz")}`);
