// One build recipe for every package: ESM + CJS JavaScript and .d.ts/.d.cts types per entry.
// Everything that is not a relative import stays external, so packages never bundle their
// dependencies (or each other) and Node built-ins resolve at run time. The JavaScript carries no
// source comments (rollup.strip-comments.mjs); the declarations, every TSDoc comment included, are
// written once as .d.cts, and each entry's .d.ts re-exports them (rollup.type-stubs.mjs says why).
import { rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { dts } from "rollup-plugin-dts";
import esbuild from "rollup-plugin-esbuild";
import { stripCommentsPlugin } from "./rollup.strip-comments.mjs";
import { typeStubsPlugin } from "./rollup.type-stubs.mjs";

const isExternal = (id) =>
  builtinModules.includes(id) || !(id.startsWith(".") || id.startsWith("/") || id.startsWith("\0"));

/**
 * @param {Record<string, string>} entries output name -> source file, e.g. { index: "src/index.ts" }
 */
export function packageConfig(entries) {
  // The CLI builds these configs one after the other; emptying dist/ first keeps chunks of an
  // earlier build from being packed and published.
  const cleanDist = {
    name: "clean-dist",
    buildStart: () => rmSync("dist", { recursive: true, force: true }),
  };
  return [
    {
      input: entries,
      external: isExternal,
      plugins: [cleanDist, esbuild({ target: "node20", tsconfig: "tsconfig.json" }), stripCommentsPlugin()],
      output: [
        { dir: "dist", format: "es", entryFileNames: "[name].js", chunkFileNames: "chunks/[name]-[hash].js" },
        {
          dir: "dist",
          format: "cjs",
          entryFileNames: "[name].cjs",
          chunkFileNames: "chunks/[name]-[hash].cjs",
          exports: "named",
        },
      ],
    },
    {
      input: entries,
      external: isExternal,
      plugins: [dts({ tsconfig: "tsconfig.json" }), typeStubsPlugin()],
      output: {
        dir: "dist",
        format: "es",
        entryFileNames: "[name].d.cts",
        chunkFileNames: "chunks/[name]-[hash].d.cts",
      },
    },
  ];
}
