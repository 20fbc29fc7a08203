// Source comments in the emitted JavaScript help nobody (the .d.cts files keep every TSDoc comment,
// which is what editors show) and are bytes in every install. esbuild drops comments in statement
// position but keeps those in class bodies, object literals and expressions, and only removes them
// together with all whitespace (minifyWhitespace), which would make stack traces unreadable. This
// removes just the comments from each rendered chunk, leaving names and layout as they are.
import ts from "typescript";

/**
 * Comments that stay: legal notices (as esbuild defines them: `/*!`, `//!`, `@license`,
 * `@preserve`) and annotations that bundlers downstream read (`@__PURE__`, `@__NO_SIDE_EFFECTS__`).
 */
const KEEP = /^\/[/*]!|@license|@preserve|[@#]__PURE__|[@#]__NO_SIDE_EFFECTS__/;

/** Every comment of a JavaScript text: the trivia around each token, found by TypeScript's parser. */
function commentRanges(code) {
  const file = ts.createSourceFile("chunk.js", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const ranges = new Map();
  const add = (list) => {
    for (const range of list ?? []) ranges.set(range.pos, range);
  };
  const visit = (node) => {
    // Leading comments start after a line break; one on the same line as the token before is that
    // token's trailing comment, so both are collected at every token boundary.
    add(ts.getLeadingCommentRanges(code, node.pos));
    add(ts.getTrailingCommentRanges(code, node.end));
    for (const child of node.getChildren(file)) visit(child);
  };
  visit(file);
  return [...ranges.values()].sort((a, b) => a.pos - b.pos);
}

/**
 * `code` without its comments, except those {@link KEEP} names. A comment alone on its lines goes
 * with its lines; one after code goes with the spaces before it; one before code on its line goes
 * with the spaces after it.
 *
 * @param {string} code JavaScript (ESM or CommonJS), as rollup renders a chunk
 * @returns {string}
 */
export function stripComments(code) {
  let out = code;
  for (const { pos, end } of commentRanges(code).reverse()) {
    if (KEEP.test(out.slice(pos, end))) continue;
    const lineStart = out.lastIndexOf("\n", pos - 1) + 1;
    const newline = out.indexOf("\n", end);
    const lineEnd = newline === -1 ? out.length : newline;
    const before = out.slice(lineStart, pos);
    const after = out.slice(end, lineEnd);
    if (before.trim() === "" && after.trim() === "") {
      out = out.slice(0, lineStart) + out.slice(newline === -1 ? lineEnd : lineEnd + 1);
    } else if (after.trim() === "") {
      out = out.slice(0, pos - (before.length - before.trimEnd().length)) + out.slice(end);
    } else {
      const spaces = after.length - after.trimStart().length;
      // Never glue two tokens together (`a/* x */b`), and keep the line break a comment spanning
      // lines stands for between two tokens (it can end a statement: `return /*\n*/ x`).
      const multiline = out.slice(pos, end).includes("\n") && before.trim() !== "";
      const glue = multiline ? "\n" : before !== "" && !/\s$/.test(before) && spaces === 0 ? " " : "";
      out = out.slice(0, pos) + glue + out.slice(end + spaces);
    }
  }
  return out;
}

/** Rollup plugin: {@link stripComments} on every rendered JavaScript chunk (no source maps are emitted). */
export function stripCommentsPlugin() {
  return {
    name: "strip-comments",
    renderChunk: (code) => ({ code: stripComments(code), map: null }),
  };
}
