// Each entry's declarations ship once (issue #22, footprint): the `.d.cts` file holds them, TSDoc
// included, and the `.d.ts` next to it is the one line `export * from "./<entry>.cjs";`. Until
// then both were full copies, 159 KiB each for core + credential-cert + http-undici.
//
// Why the ESM file is the stub and not the CommonJS one: an ES module may re-export a CommonJS
// module's names, so `.d.ts` -> `.d.cts` type-checks under every moduleResolution (TypeScript maps
// "./index.cjs" to index.d.cts in node10 and bundler too); are-the-types-wrong passes it for node10,
// node16 ESM, node16 CJS and bundler, and the consumer checks in scripts/check-packages.mjs (tsc
// without skipLibCheck, wrong calls that must fail, TSDoc on every import) pass in all four modes.
// The other way round, a `.d.cts` re-exporting the `.d.ts`, is a `require()` of an ES module to
// TypeScript: are-the-types-wrong does not notice, but a CommonJS consumer under node16 without
// skipLibCheck gets error TS1479 inside our `.d.cts` (tried on credential-cert's tarball).
//
// `export *` does not carry a default export, so an entry that has one fails the build here rather
// than ship a `.d.ts` that silently lacks it.
import { posix } from "node:path";

/** Rollup plugin for the declaration build whose output writes `[name].d.cts`. */
export function typeStubsPlugin() {
  return {
    name: "type-stubs",
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== "chunk" || !chunk.isEntry) continue;
        if (!chunk.fileName.endsWith(".d.cts")) {
          this.error(`type-stubs: expected a .d.cts entry, got ${chunk.fileName}`);
        }
        if (chunk.exports.includes("default")) {
          this.error(
            `type-stubs: ${chunk.fileName} has a default export, which \`export *\` would drop from its .d.ts stub`,
          );
        }
        const stem = chunk.fileName.slice(0, -".d.cts".length);
        this.emitFile({
          type: "asset",
          fileName: `${stem}.d.ts`,
          source: `export * from "./${posix.basename(stem)}.cjs";\n`,
        });
      }
    },
  };
}
