import { expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without type declarations
import { findUndocumentedExports } from "../../scripts/check-tsdoc.mjs";

it("every public export has TSDoc with an @example (node scripts/check-tsdoc.mjs)", () => {
  expect(findUndocumentedExports()).toEqual([]);
});
