import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs module without type declarations
import { stripComments } from "../../rollup.strip-comments.mjs";

const strip = stripComments as (code: string) => string;

describe("the build's comment stripping (rollup.strip-comments.mjs)", () => {
  it("removes comments esbuild keeps in class bodies and object literals, with their lines", () => {
    const code = [
      "class Pool {",
      "  // Connections still in TCP connect.",
      "  #connecting = new Set();",
      "  /**",
      "   * Closes every pool.",
      "   */",
      "  close() {",
      "    return 1; // done",
      "  }",
      "}",
      "const o = {",
      "  /* the key */ k: 1,",
      "};",
      "",
    ].join("\n");
    expect(strip(code)).toBe(
      [
        "class Pool {",
        "  #connecting = new Set();",
        "  close() {",
        "    return 1;",
        "  }",
        "}",
        "const o = {",
        "  k: 1,",
        "};",
        "",
      ].join("\n"),
    );
  });

  it("keeps legal comments, bundler annotations and the shebang", () => {
    const code = [
      "#!/usr/bin/env node",
      "/*! a notice */",
      "/** @license MIT */",
      "//! another notice",
      "const m = /* @__PURE__ */ new Map();",
      "const f = /* #__NO_SIDE_EFFECTS__ */ () => 1;",
      "",
    ].join("\n");
    expect(strip(code)).toBe(code);
  });

  it("leaves strings, templates and regular expressions alone", () => {
    const placeholder = "$" + "{s}"; // a template's `${s}`, spelt so that the linter leaves it be
    const code = `const s = "// no" + '/* no */';\nconst r = /\\/* no */g;\nconst t = \`// no ${placeholder} /* no */\`;\n`;
    expect(strip(code)).toBe(code);
  });

  it("never glues tokens together and keeps a line break a comment stood for", () => {
    expect(strip("a/* x */b;\n")).toBe("a b;\n");
    expect(strip("f(/* a */ 1, /* b */ /* c */ 2);\n")).toBe("f(1, 2);\n");
    // `return /*\n*/ x` returns undefined: the comment's line break ends the statement.
    expect(strip("function g() { return /*\n*/ 1 }\n")).toBe("function g() { return \n1 }\n");
  });

  it("keeps the code's behaviour: what a stripped module computes is what the original computed", () => {
    const code = [
      "const values = [",
      "  1, // one",
      "  /* two */ 2,",
      "];",
      "function sum(list) {",
      "  // adds them up",
      "  return /*",
      "  */ list.reduce((a, b) => a + b, 0);",
      "}",
      "module.exports = { sum: sum(values), text: '/* kept */ // kept' };",
      "",
    ].join("\n");
    const run = (source: string) => {
      const module = { exports: {} as unknown };
      new Function("module", source)(module);
      return module.exports;
    };
    expect(run(strip(code))).toEqual(run(code));
    expect(run(code)).toEqual({ sum: undefined, text: "/* kept */ // kept" });
    expect(strip(code)).not.toMatch(/one|two|adds/);
  });
});
