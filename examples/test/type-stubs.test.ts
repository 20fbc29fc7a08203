import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rollup } from "rollup";
import { dts } from "rollup-plugin-dts";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs module without type declarations
import { typeStubsPlugin } from "../../rollup.type-stubs.mjs";

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** Runs the declaration build of rollup.base.mjs on `files` (name -> TypeScript source). */
async function buildTypes(files: Record<string, string>, entries: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), "certbound-type-stubs-"));
  folders.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { strict: true, module: "ESNext", moduleResolution: "Bundler" } }),
  );
  const bundle = await rollup({
    input: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, join(dir, file)])),
    plugins: [dts({ tsconfig: join(dir, "tsconfig.json") }), typeStubsPlugin()],
  });
  try {
    const { output } = await bundle.generate({
      format: "es",
      entryFileNames: "[name].d.cts",
      chunkFileNames: "chunks/[name]-[hash].d.cts",
    });
    return Object.fromEntries(
      output.map((o) => [o.fileName, o.type === "chunk" ? o.code : String(o.source)] as const),
    );
  } finally {
    await bundle.close();
  }
}

describe("the build's .d.ts stubs (rollup.type-stubs.mjs)", () => {
  it("writes each entry's declarations once, as .d.cts, and a one-line .d.ts that re-exports them", async () => {
    const out = await buildTypes(
      {
        "shared.ts": "/** A shared shape. */\nexport interface Shape { readonly sides: number }\n",
        "a.ts":
          'import type { Shape } from "./shared";\n/** Makes a triangle. */\nexport function triangle(): Shape { return { sides: 3 }; }\nexport type { Shape };\n',
        "b.ts":
          'import type { Shape } from "./shared";\n/** Counts sides. */\nexport const sides = (s: Shape): number => s.sides;\n',
      },
      { a: "a.ts", "kit/b": "b.ts" },
    );
    expect(out["a.d.ts"]).toBe('export * from "./a.cjs";\n');
    expect(out["kit/b.d.ts"]).toBe('export * from "./b.cjs";\n');
    expect(out["a.d.cts"]).toContain("/** Makes a triangle. */");
    expect(out["kit/b.d.cts"]).toContain("/** Counts sides. */");
    // Shared declarations go to a chunk; only entries get a stub.
    const chunks = Object.keys(out).filter((f) => f.startsWith("chunks/"));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatch(/\.d\.cts$/);
    expect(out[chunks[0] as string]).toContain("/** A shared shape. */");
    expect(Object.keys(out).sort()).toEqual(
      ["a.d.cts", "a.d.ts", chunks[0], "kit/b.d.cts", "kit/b.d.ts"].sort(),
    );
  });

  it("fails the build for an entry with a default export, which `export *` would drop", async () => {
    await expect(
      buildTypes(
        { "index.ts": "/** The answer. */\nexport default function answer(): number { return 42; }\n" },
        { index: "index.ts" },
      ),
    ).rejects.toThrow(/index\.d\.cts has a default export/);
  });
});
