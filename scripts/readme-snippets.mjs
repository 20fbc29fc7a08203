#!/usr/bin/env node
// README code blocks come from the runnable examples, so they cannot rot: a block in README.md
// (or a package README) preceded by `<!-- snippet: NAME -->` holds the lines between
// `// #region NAME` and `// #endregion NAME` of some file in examples/src. `--write` refreshes the
// blocks; without it the script exits 1 and names every block that differs (CI runs it as a test).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export function collectRegions() {
  const regions = new Map();
  const dir = join(root, "examples/src");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    const lines = readFileSync(join(dir, file), "utf8").split("\n");
    lines.forEach((line, i) => {
      const start = line.match(/\/\/ #region (readme-[\w-]+)/);
      if (!start) return;
      const end = lines.findIndex((l, j) => j > i && l.includes(`// #endregion ${start[1]}`));
      const body = lines.slice(i + 1, end);
      const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.match(/^ */)[0].length));
      regions.set(start[1], body.map((l) => l.slice(indent)).join("\n"));
    });
  }
  return regions;
}

export function readmeFiles() {
  const files = [join(root, "README.md")];
  for (const pkg of readdirSync(join(root, "packages"))) files.push(join(root, "packages", pkg, "README.md"));
  return files;
}

/** Returns [file, name, problem] for every snippet that is missing or stale. */
export function checkSnippets(write = false) {
  const regions = collectRegions();
  const problems = [];
  for (const file of readmeFiles()) {
    let text;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    const updated = text.replace(
      /<!-- snippet: (readme-[\w-]+) -->\n```ts\n([\s\S]*?)```/g,
      (block, name, code) => {
        const region = regions.get(name);
        if (region === undefined) {
          problems.push([file, name, "no such region in examples/src"]);
          return block;
        }
        if (code !== `${region}\n`) problems.push([file, name, "differs from its example"]);
        return `<!-- snippet: ${name} -->\n\`\`\`ts\n${region}\n\`\`\``;
      },
    );
    if (write && updated !== text) writeFileSync(file, updated);
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const write = process.argv.includes("--write");
  const problems = checkSnippets(write);
  for (const [file, name, problem] of problems) console.log(`${file}: ${name}: ${problem}`);
  if (!write && problems.length) process.exit(1);
}
