import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkReadmeText,
  checkSnippets,
  codeBlocks,
  collectRegionSources,
  collectRegions,
  JS_LANGUAGES,
  javascriptSyntaxProblem,
  javascriptSyntaxProblems,
  readmeFiles,
  UNCHECKED_LANGUAGES,
  // @ts-expect-error: a plain .mjs build script without type declarations
} from "../../scripts/readme-snippets.mjs";

type Block = { language: string; code: string; line: number; snippet?: string };
type Problems = { problems: [string, string][]; updated: string };
const check = checkReadmeText as (text: string, regions: Map<string, string>) => Problems;
const blocksOf = codeBlocks as (text: string) => Block[];
const jsProblem = javascriptSyntaxProblem as (code: string) => string | undefined;
const jsProblems = javascriptSyntaxProblems as (codes: string[]) => (string | undefined)[];
const fence = "```";

it("every README snippet is the current text of its example region (node scripts/readme-snippets.mjs --write)", () => {
  expect((collectRegions() as Map<string, string>).size).toBeGreaterThan(0);
  expect(checkSnippets(false)).toEqual([]);
});

it("every ts/js block of every package README comes from a type-checked region", () => {
  const files = (readmeFiles() as string[]).filter((f) => f.includes("packages"));
  expect(files.length).toBeGreaterThanOrEqual(6);
  let marked = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const block of blocksOf(text)) {
      if (UNCHECKED_LANGUAGES.has(block.language)) continue;
      expect(block.snippet, `${relative(process.cwd(), file)} line ${block.line}`).toMatch(/^readme-/);
      marked++;
    }
  }
  expect(marked).toBeGreaterThanOrEqual(17);
});

it("every region under examples/src/readme and interop/readme is shown in some README", () => {
  const used = new Set(
    (readmeFiles() as string[]).flatMap((f) => {
      try {
        return [...readFileSync(f, "utf8").matchAll(/<!-- snippet: ([\w-]+) -->/g)].map((m) => m[1]);
      } catch {
        return [];
      }
    }),
  );
  const sources = collectRegionSources() as Map<string, { file: string }>;
  const unused = [...sources]
    .filter(([name, { file }]) => /(^|\/)readme\//.test(file) && !used.has(name))
    .map(([name, { file }]) => `${file}: ${name}`);
  expect(unused).toEqual([]);
});

it("parses every README block labelled js, javascript or mjs with this Node's parser (Node 20 in CI)", () => {
  const blocks: { where: string; code: string }[] = [];
  for (const file of readmeFiles() as string[]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const block of blocksOf(text)) {
      if ((JS_LANGUAGES as Set<string>).has(block.language))
        blocks.push({ where: `${file} line ${block.line}`, code: block.code });
    }
  }
  expect(blocks.length).toBeGreaterThanOrEqual(10);
  const problems = jsProblems(blocks.map((b) => b.code)).flatMap((problem, i) =>
    problem ? [`${blocks[i]?.where}: ${problem}`] : [],
  );
  expect(problems).toEqual([]);
});

describe("the README check itself", () => {
  const regions = new Map([["readme-demo", 'import { a } from "x";\nconsole.log(a);']]);

  it("accepts a marked block equal to its region and unmarked shell, JSON and text blocks", () => {
    const text = [
      "<!-- snippet: readme-demo -->",
      `${fence}js`,
      'import { a } from "x";',
      "console.log(a);",
      fence,
      `${fence}sh`,
      "npm install x",
      fence,
      `${fence}json`,
      "{}",
      fence,
      `${fence}text`,
      "a tree",
      fence,
    ].join("\n");
    expect(check(text, regions).problems).toEqual([]);
  });

  it("flags a ts or js block without a marker, and a block without a language", () => {
    for (const language of ["ts", "js", "typescript", ""]) {
      const text = `# x\n\n${fence}${language}\nconst a = 1;\n${fence}\n`;
      const { problems } = check(text, regions);
      expect(problems).toHaveLength(1);
      expect(problems[0]?.[0]).toBe("line 3");
      expect(problems[0]?.[1]).toMatch(/without a snippet marker/);
    }
  });

  it("flags a marked block that differs from its region and --write puts the region back", () => {
    const text = `<!-- snippet: readme-demo -->\n${fence}ts\nconsole.log(b);\n${fence}\n`;
    const { problems, updated } = check(text, regions);
    expect(problems).toEqual([["readme-demo", "differs from its source region"]]);
    expect(updated).toBe(
      `<!-- snippet: readme-demo -->\n${fence}ts\n${regions.get("readme-demo")}\n${fence}\n`,
    );
  });

  it("flags a marker naming no region", () => {
    const text = `<!-- snippet: readme-gone -->\n${fence}ts\nconst a = 1;\n${fence}\n`;
    expect(check(text, regions).problems.map(([name]) => name)).toEqual(["readme-gone"]);
  });

  it("flags `await using` in a js block (a SyntaxError on Node 20) and in a ts block", () => {
    const code = "const caller = make();\nawait using c = caller;\n";
    const js = check(`<!-- snippet: readme-demo -->\n${fence}js\n${code}${fence}\n`, regions).problems;
    expect(js.some(([, p]) => /Node 20/.test(p) && /try\/finally/.test(p))).toBe(true);
    const ts = check(`<!-- snippet: readme-demo -->\n${fence}ts\n${code}${fence}\n`, regions).problems;
    expect(ts.some(([, p]) => /await using/.test(p))).toBe(true);
  });

  it("checks js blocks with Node's parser: TypeScript syntax and broken code fail, ESM with top-level await passes", () => {
    expect(jsProblem('import { a } from "x";\nconst r = await a();\nconsole.log(r);\n')).toBeUndefined();
    expect(jsProblem("const a: number = 1;\n")).toMatch(/does not parse as JavaScript/);
    expect(jsProblem("const x = ;\n")).toMatch(/does not parse as JavaScript/);
    expect(jsProblem("using c = open();\n")).toMatch(/Node 20/);
  });

  it("parses many blocks in one go and keeps each answer with its block", () => {
    const codes = [
      "const a = 1;\n",
      "const b: string = 2;\n",
      "export const c = await 3;\n",
      "x = ;\n",
      "const a = 1;\n",
    ];
    const problems = jsProblems(codes);
    expect(problems.map((p) => p === undefined)).toEqual([true, false, true, false, true]);
    expect(problems[3]).toMatch(/does not parse as JavaScript on Node .*: SyntaxError: /);
  });

  // Newer Nodes parse `await using`; there the pattern check above still refuses it.
  it.runIf(process.versions.node.startsWith("20."))(
    "on Node 20 the parser itself refuses `await using`",
    () => {
      // The comment hides the declaration from the pattern check: the parser alone must refuse it.
      expect(jsProblem("await using /* */ c = open();\n")).toMatch(/does not parse as JavaScript/);
    },
  );
});
