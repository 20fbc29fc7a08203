import { expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script without type declarations
import { checkSnippets, collectRegions } from "../../scripts/readme-snippets.mjs";

it("every README snippet is the current text of its example region (node scripts/readme-snippets.mjs --write)", () => {
  expect((collectRegions() as Map<string, string>).size).toBeGreaterThan(0);
  expect(checkSnippets(false)).toEqual([]);
});
