#!/usr/bin/env node
// README code blocks come from type-checked sources, so they cannot rot: a block in README.md or a
// package README preceded by `<!-- snippet: NAME -->` holds the lines between `// #region NAME` and
// `// #endregion NAME` of a file under examples/src (package README blocks: examples/src/readme/
// <package>/; the one that needs msal-node and @azure/identity: interop/readme/, where they are
// installed). Root tsconfig.json type-checks all of them. `--write` refreshes the blocks; without
// it the script exits 1 and names every problem (CI runs it as a test, examples/test/readme-snippets):
// a block that differs from its region, a TypeScript or JavaScript block without a marker (only
// shell, JSON and text blocks may stand alone), a `js` block that Node 20's parser refuses, and any
// block with `await using` (a SyntaxError on Node 20: show try/finally with close() instead).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Folders whose .ts files hold snippet regions. */
export const REGION_DIRS = ["examples/src", "interop/readme"];
/** Block languages that may stand without a snippet marker: nothing in them is checked by a compiler. */
export const UNCHECKED_LANGUAGES = new Set(["sh", "bash", "shell", "console", "json", "jsonc", "text"]);
/** Block languages shown as plain JavaScript: each must parse on Node 20. */
export const JS_LANGUAGES = new Set(["js", "javascript", "mjs"]);

function sourceFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) =>
    e.isDirectory()
      ? e.name === "node_modules"
        ? []
        : sourceFiles(join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [join(dir, e.name)]
        : [],
  );
}

/** Region name -> { text (common indentation removed), file (relative) }, from every file under REGION_DIRS. */
export function collectRegionSources() {
  const regions = new Map();
  for (const dir of REGION_DIRS) {
    for (const file of sourceFiles(join(root, dir))) {
      const lines = readFileSync(file, "utf8").split("\n");
      lines.forEach((line, i) => {
        const start = line.match(/\/\/ #region (readme-[\w-]+)/);
        if (!start) return;
        const name = start[1];
        if (regions.has(name)) throw new Error(`${relative(root, file)}: region ${name} is defined twice`);
        const end = lines.findIndex((l, j) => j > i && l.includes(`// #endregion ${name}`));
        if (end < 0) throw new Error(`${relative(root, file)}: region ${name} has no #endregion`);
        const body = lines.slice(i + 1, end);
        const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.match(/^ */)[0].length));
        regions.set(name, { text: body.map((l) => l.slice(indent)).join("\n"), file: relative(root, file) });
      });
    }
  }
  return regions;
}

/** Region name -> its text (common indentation removed). */
export function collectRegions() {
  return new Map([...collectRegionSources()].map(([name, { text }]) => [name, text]));
}

export function readmeFiles() {
  const files = [join(root, "README.md")];
  for (const pkg of readdirSync(join(root, "packages"))) files.push(join(root, "packages", pkg, "README.md"));
  return files;
}

/**
 * The fenced code blocks of a Markdown text: `language` (empty when none), `code` (with its final
 * newline), `line` (1-based, of the opening fence), and `snippet`, the name of the marker on the
 * line before the fence, if any.
 */
export function codeBlocks(text) {
  const lines = text.split("\n");
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^(`{3,}|~{3,})\s*([^\s`]*)/);
    if (!open) continue;
    const fence = open[1];
    const close = lines.findIndex((l, j) => j > i && l.trimEnd() === fence);
    const end = close < 0 ? lines.length : close;
    const marker = i > 0 ? lines[i - 1].match(/^<!-- snippet: ([\w-]+) -->\s*$/) : null;
    blocks.push({
      language: open[2].toLowerCase(),
      code: lines.slice(i + 1, end).join("\n") + (close < 0 ? "" : "\n"),
      line: i + 1,
      snippet: marker ? marker[1] : undefined,
    });
    i = end;
  }
  return blocks;
}

// `using` / `await using` declarations: checked by pattern as well as by the parser, so the rule
// holds when the tests run on a Node that has explicit resource management.
const USING_DECLARATION = /(^|[;{}\s])(await\s+)?using\s+[A-Za-z_$][\w$]*\s*=/m;

// Parses each code of a JSON array on stdin as an ES module with V8's module parser (the one
// `node --check file.mjs` uses) and prints, per code, null or the SyntaxError. One child process
// for every block: a `node --check` per block cost 20 process starts, 2-5 s on a loaded machine,
// against vitest's 5 s test timeout.
const PARSE_MODULES = `
import { SourceTextModule } from "node:vm";
let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map((code) => {
  try {
    new SourceTextModule(code);
    return null;
  } catch (error) {
    return String(error?.name ?? "Error") + ": " + String(error?.message ?? error);
  }
});
process.stdout.write(JSON.stringify(results));
`;
const parsed = new Map();

/**
 * Why each of `codes` is not plain JavaScript for Node 20 (an ES module), or undefined for those
 * that are; parsed in one child process, and remembered for this process.
 */
export function javascriptSyntaxProblems(codes) {
  const fresh = [...new Set(codes.filter((code) => !parsed.has(code) && !USING_DECLARATION.test(code)))];
  if (fresh.length > 0) {
    const r = spawnSync(
      process.execPath,
      ["--experimental-vm-modules", "--no-warnings", "--input-type=module", "-e", PARSE_MODULES],
      { input: JSON.stringify(fresh), encoding: "utf8" },
    );
    if (r.status !== 0)
      throw new Error(`the JavaScript parser process failed (exit ${r.status}): ${r.stderr}`);
    const results = JSON.parse(r.stdout);
    fresh.forEach((code, i) => {
      parsed.set(code, results[i] ?? undefined);
    });
  }
  return codes.map((code) => {
    if (USING_DECLARATION.test(code)) {
      return "`using` / `await using` is a SyntaxError on Node 20: use try/finally with close()";
    }
    const reason = parsed.get(code);
    return reason === undefined
      ? undefined
      : `does not parse as JavaScript on Node ${process.versions.node}: ${reason}`;
  });
}

/** Why `code` is not plain JavaScript for Node 20 (an ES module), or undefined when it is. */
export function javascriptSyntaxProblem(code) {
  return javascriptSyntaxProblems([code])[0];
}

/**
 * Checks one README's text against the regions. Returns the problems as [name, problem] pairs
 * (name is the snippet, or `line N` for a block without one) and the text with every marked block
 * replaced by its region.
 */
export function checkReadmeText(text, regions) {
  const problems = [];
  for (const block of codeBlocks(text)) {
    const where = block.snippet ?? `line ${block.line}`;
    if (block.snippet === undefined && !UNCHECKED_LANGUAGES.has(block.language)) {
      problems.push([
        where,
        `a \`\`\`${block.language || "(no language)"} block without a snippet marker (only sh, json and text ` +
          "blocks may stand alone): move its code into a region under examples/src/readme/<package>/ and " +
          "put `<!-- snippet: readme-NAME -->` before the block",
      ]);
    }
    if (JS_LANGUAGES.has(block.language)) {
      const problem = javascriptSyntaxProblem(block.code);
      if (problem) problems.push([where, problem]);
    } else if (/\bawait\s+using\b/.test(block.code)) {
      problems.push([where, "`await using` is a SyntaxError on Node 20: show try/finally with close()"]);
    }
  }
  const updated = text.replace(
    /<!-- snippet: ([\w-]+) -->\n```(\w*)\n([\s\S]*?)```/g,
    (block, name, language, code) => {
      const region = regions.get(name);
      if (region === undefined) {
        problems.push([name, `no such region in ${REGION_DIRS.join(" or ")}`]);
        return block;
      }
      if (code !== `${region}\n`) problems.push([name, "differs from its source region"]);
      return `<!-- snippet: ${name} -->\n\`\`\`${language}\n${region}\n\`\`\``;
    },
  );
  return { problems, updated };
}

/** Returns [file, name, problem] for every README problem; `write` refreshes the marked blocks first. */
export function checkSnippets(write = false) {
  const regions = collectRegions();
  const problems = [];
  const texts = new Map();
  for (const file of readmeFiles()) {
    try {
      texts.set(file, readFileSync(file, "utf8"));
    } catch {
      // listed but absent (a package without a README yet)
    }
  }
  // Every js block of every README parsed at once; checkReadmeText then finds them remembered.
  javascriptSyntaxProblems(
    [...texts.values()].flatMap((text) =>
      codeBlocks(text)
        .filter((block) => JS_LANGUAGES.has(block.language))
        .map((block) => block.code),
    ),
  );
  for (const [file, text] of texts) {
    let result = checkReadmeText(text, regions);
    if (write && result.updated !== text) {
      writeFileSync(file, result.updated);
      result = checkReadmeText(result.updated, regions);
    }
    for (const [name, problem] of result.problems) problems.push([relative(root, file), name, problem]);
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const write = process.argv.includes("--write");
  const problems = checkSnippets(write);
  for (const [file, name, problem] of problems) console.log(`${file}: ${name}: ${problem}`);
  if (problems.length) process.exit(1);
}
