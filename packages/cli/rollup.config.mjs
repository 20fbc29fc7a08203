import { packageConfig } from "../../rollup.base.mjs";

// The library entry (runCli, EXIT_CODES) builds like every package; the `bin` entry is ESM only,
// without types (nothing imports it), and starts with a shebang.
const [javascript, ...types] = packageConfig({ index: "src/index.ts" });
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
