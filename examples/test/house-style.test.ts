import { expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without type declarations
import { findUndocumentedExports } from "../../scripts/check-tsdoc.mjs";

it("every export of an entry point has TSDoc tagged @public or @internal, with an @example for functions, classes and constants (node scripts/check-tsdoc.mjs)", () => {
  expect(findUndocumentedExports()).toEqual([]);
});
