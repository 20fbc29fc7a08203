#!/usr/bin/env node
// Shipped docs may cite the wire protocol only through its public URL: npm renders a package's
// README away from the repository (a relative `docs/protocol.md` link breaks there) and the team's
// private notes are not public at all. This check fails when a shipped file mentions protocol.md
// without the full URL, cites a section anchor that docs/protocol.md does not define, or points
// at the private notes; and when protocol.md links to one of its own anchors that does not exist.
// examples/test/protocol-links.test.ts runs it.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The one address shipped files may use for the protocol document. */
export const PROTOCOL_URL = "https://github.com/certbound/certbound/blob/main/docs/protocol.md";
const URL_BEFORE_NAME = PROTOCOL_URL.slice(0, -"protocol.md".length);
const PRIVATE_NOTES = /\.\.\/shared\b|\/work\/shared\b/;
const LINK_TO_PROTOCOL = new RegExp(`\\[[^\\]]*\\]\\((${PROTOCOL_URL.replaceAll(".", "\\.")}[^)]*)\\)`, "g");

/** The explicit section anchors (`<a id="..."></a>`) of the protocol document. */
export function protocolAnchors(markdown) {
  return new Set([...markdown.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));
}

/** Problems in one shipped file's text, as `path:line: message` strings. */
export function checkShippedText(path, text, anchors) {
  const problems = [];
  text.split("\n").forEach((line, i) => {
    const where = `${path}:${i + 1}`;
    if (PRIVATE_NOTES.test(line)) problems.push(`${where}: points into the private notes (../shared)`);
    // The text of a Markdown link to the full URL may name the file: `[protocol.md 6](URL#s6-retries)`.
    const scanned = line.replaceAll(LINK_TO_PROTOCOL, "[]($1)");
    for (const m of scanned.matchAll(/protocol\.md/g)) {
      if (scanned.slice(m.index - URL_BEFORE_NAME.length, m.index) !== URL_BEFORE_NAME) {
        problems.push(`${where}: mentions protocol.md without the full URL ${PROTOCOL_URL}`);
        continue;
      }
      const after = scanned.slice(m.index + "protocol.md".length);
      if (!after.startsWith("#")) continue;
      // A sentence may end right after the anchor: a trailing dot is not part of it.
      const anchor = after.slice(1).match(/^[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*/)?.[0] ?? "";
      if (!anchors.has(anchor)) problems.push(`${where}: docs/protocol.md has no anchor #${anchor}`);
    }
  });
  return problems;
}

/** Problems in protocol.md's links to its own sections. */
export function checkProtocolSelfLinks(markdown) {
  const anchors = protocolAnchors(markdown);
  const problems = [];
  markdown.split("\n").forEach((line, i) => {
    for (const m of line.matchAll(/\]\(#([^)]+)\)/g)) {
      if (!anchors.has(m[1])) problems.push(`docs/protocol.md:${i + 1}: no anchor #${m[1]}`);
    }
  });
  return problems;
}

function shippedFiles() {
  const files = ["README.md", "bench/README.md"];
  for (const doc of readdirSync(join(root, "docs"))) {
    if (doc.endsWith(".md") && doc !== "protocol.md") files.push(`docs/${doc}`);
  }
  const visit = (dir) => {
    for (const name of readdirSync(join(root, dir))) {
      const path = `${dir}/${name}`;
      if (statSync(join(root, path)).isDirectory()) visit(path);
      else files.push(path);
    }
  };
  for (const pkg of readdirSync(join(root, "packages"))) {
    if (existsSync(join(root, "packages", pkg, "README.md"))) files.push(`packages/${pkg}/README.md`);
    if (existsSync(join(root, "packages", pkg, "src"))) visit(`packages/${pkg}/src`);
  }
  return files.filter((f) => existsSync(join(root, f)));
}

/** Every problem in the repository, as `path:line: message` strings. */
export function findProtocolLinkProblems() {
  const protocolPath = join(root, "docs", "protocol.md");
  if (!existsSync(protocolPath)) return ["docs/protocol.md: missing"];
  const markdown = readFileSync(protocolPath, "utf8");
  const anchors = protocolAnchors(markdown);
  const problems = checkProtocolSelfLinks(markdown);
  for (const file of shippedFiles()) {
    problems.push(...checkShippedText(file, readFileSync(join(root, file), "utf8"), anchors));
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = findProtocolLinkProblems();
  for (const line of problems) console.log(line);
  if (problems.length) process.exit(1);
}
