#!/usr/bin/env node
// House style: every export named in a package entry point has TSDoc with a release tag, `@public`
// (part of the contract, in the API report) or `@internal` (exported for certbound's own packages
// only); functions, classes and constants also show an @example.
// Prints the offenders and exits 1 when there are any; examples/test/house-style.test.ts runs it.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY_POINTS = ["index.ts", "credential-kit/index.ts", "transport-kit/index.ts"];

function publicNames(src) {
  const names = new Set();
  for (const entry of ENTRY_POINTS.map((e) => join(src, e)).filter(existsSync)) {
    for (const m of readFileSync(entry, "utf8").matchAll(/export (?:type )?\{([^}]*)\}/g)) {
      for (const part of m[1].split(",")) {
        const name = part
          .trim()
          .replace(/^type\s+/, "")
          .split(/\s+as\s+/)
          .pop();
        if (name) names.add(name);
      }
    }
  }
  return names;
}

function docBefore(lines, i) {
  let end = i - 1;
  while (end >= 0 && lines[end].trim() === "") end--;
  if (!lines[end]?.trim().endsWith("*/")) return undefined;
  let start = end;
  while (start >= 0 && !lines[start].includes("/**")) start--;
  return lines.slice(start, end + 1).join("\n");
}

export function findUndocumentedExports() {
  const missing = [];
  for (const pkg of readdirSync(join(root, "packages"))) {
    const src = join(root, "packages", pkg, "src");
    if (!existsSync(src)) continue;
    const names = publicNames(src);
    const visit = (dir) => {
      for (const f of readdirSync(dir)) {
        const path = join(dir, f);
        if (statSync(path).isDirectory()) visit(path);
        else if (path.endsWith(".ts") && !path.endsWith(".test.ts")) {
          const lines = readFileSync(path, "utf8").split("\n");
          lines.forEach((line, i) => {
            const m = line.match(
              /^export (?:declare )?(?:async )?(?:abstract )?(function|class|const|interface|type|enum) (\w+)/,
            );
            if (!m || !names.has(m[2])) return;
            const doc = docBefore(lines, i);
            const where = `${path.slice(root.length + 1)}:${i + 1} ${m[2]}`;
            if (!doc) missing.push(`${where}: no TSDoc`);
            else {
              if (!/@(public|internal)\b/.test(doc)) missing.push(`${where}: no @public or @internal tag`);
              const needsExample = m[1] === "function" || m[1] === "class" || m[1] === "const";
              if (needsExample && !doc.includes("@example")) missing.push(`${where}: no @example`);
            }
          });
        }
      }
    };
    visit(src);
  }
  return missing;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const missing = findUndocumentedExports();
  for (const line of missing) console.log(line);
  if (missing.length) process.exit(1);
}
