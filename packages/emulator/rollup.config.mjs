import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { packageConfig } from "../../rollup.base.mjs";

// The inspector's page, script and style are plain files imported with `?raw` (as vite does in
// tests): the build inlines each as a string, so the package serves them without reading files.
const rawText = {
  name: "raw-text",
  resolveId(source, importer) {
    if (!source.endsWith("?raw") || !importer) return null;
    return `\0raw:${resolve(dirname(importer), source.slice(0, -"?raw".length))}`;
  },
  load(id) {
    if (!id.startsWith("\0raw:")) return null;
    const file = id.slice("\0raw:".length);
    this.addWatchFile(file);
    return `export default ${JSON.stringify(readFileSync(file, "utf8"))};`;
  },
};

// The library builds like every package; the `bin` entry is ESM only, without types (nothing
// imports it), and starts with a shebang.
const [javascript, ...types] = packageConfig({ index: "src/index.ts" });
javascript.plugins.unshift(rawText);
const cli = {
  ...javascript,
  input: { cli: "src/cli.ts" },
  // The library build already emptied dist/; do not empty it again.
  plugins: javascript.plugins.filter((plugin) => plugin.name !== "clean-dist"),
  output: {
    dir: "dist",
    format: "es",
    entryFileNames: "[name].js",
    chunkFileNames: "chunks/cli-[name]-[hash].js",
    banner: "#!/usr/bin/env node",
  },
};

export default [javascript, ...types, cli];
