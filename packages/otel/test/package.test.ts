import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from "../src/package-name";

describe("instrumentation scope", () => {
  it("names this package and its version, as package.json says", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(INSTRUMENTATION_NAME).toBe(manifest.name);
    expect(INSTRUMENTATION_VERSION).toBe(manifest.version);
  });
});
