import { packageConfig } from "../../rollup.base.mjs";

// The `bin` entry needs a shebang; only the JavaScript outputs of the cli chunk get one.
const [javascript, ...types] = packageConfig({ index: "src/index.ts", cli: "src/cli.ts" });
const withShebang = (output) => ({
  ...output,
  banner: (chunk) => (chunk.isEntry && chunk.name === "cli" ? "#!/usr/bin/env node" : ""),
});

export default [{ ...javascript, output: javascript.output.map(withShebang) }, ...types];
