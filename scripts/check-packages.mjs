#!/usr/bin/env node
// Packaging checks for every published package (packages/* that are not private), run after the
// build. All checks look at the tarball that would be published, made by `pnpm pack` (what
// `changeset publish` publishes in a pnpm workspace: it turns `workspace:^` into real ranges,
// which `npm pack` would leave in place):
//   1. size budget: packed and unpacked bytes under packaging/size-budget.json
//   2. contents: README.md and every `bin` file (with its shebang) are in the tarball
//   3. publint (errors and warnings fail; suggestions are printed)
//   4. are-the-types-wrong: types resolve for node16 ESM and CJS consumers and for bundlers;
//      node10 only for the root entry (see NODE10_SUBPATHS below)
//   5. consumer smoke test: the tarballs are unpacked into a temporary project's node_modules
//      (runtime dependencies linked from the workspace, nothing downloaded), and a child process
//      `import()`s and `require()`s every entry and checks named exports
// One line per check; exit code 1 when any fails.
//
//   node scripts/check-packages.mjs                 run the checks
//   node scripts/check-packages.mjs --write-budget  set the budget to today's sizes + 10 %
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import {
  packAndUnpack,
  publishedPackages,
  readJson,
  resolvePackageDir,
  root,
} from "./workspace-packages.mjs";

const budgetFile = join(root, "packaging", "size-budget.json");
const writeBudget = process.argv.includes("--write-budget");
const BUDGET_MARGIN = 1.1;

/**
 * Named exports each entry must offer, from `import()` and from `require()` alike. A package or
 * entry point missing here fails the check, so a new one gets its smoke test written down.
 * `null`: only resolve the entry (`@certbound/core/testing` imports vitest, a peer dependency).
 */
const EXPECTED_EXPORTS = {
  "@certbound/core": {
    ".": ["createTokenManager", "createMemoryCacheStore", "CertboundError", "ResourceCaller", "x5tS256"],
    "./testing": null,
    "./transport-kit": [
      "Attempt",
      "BoundedPools",
      "mapTransportError",
      "parseRequestTarget",
      "secureContextFor",
    ],
  },
  "@certbound/credential-cert": { ".": ["createConfidentialClient", "loadCertificate"] },
  "@certbound/credential-msi": {
    ".": ["createManagedIdentityClient", "buildCsr", "createInMemoryKeyProvider"],
  },
  "@certbound/http-undici": { ".": ["createUndiciTransport"] },
  "@certbound/http-axios": { ".": ["createAxiosTransport"] },
  "@certbound/emulator": { ".": ["startEmulator"] },
};

/**
 * are-the-types-wrong's node10 resolution (TypeScript's `moduleResolution: "node"`) ignores the
 * `exports` map, so it can never find a subpath such as `@certbound/core/testing`; only a
 * `typesVersions` map or a stub folder per subpath would fix that, for a resolution mode that
 * current TypeScript discourages. So node10 must resolve each package's root entry, and a
 * `NoResolution` for a subpath under node10 is tolerated (and printed). Nothing else is ignored.
 */
const NODE10_SUBPATHS = "tolerated";

const failures = [];
function line(ok, check, pkg, detail = "") {
  if (!ok) failures.push(`${check} ${pkg}`);
  console.log(`${ok ? "ok  " : "FAIL"} ${check.padEnd(9)} ${pkg}${detail ? `: ${detail}` : ""}`);
}

/** Runs a command; resolves with its stdout (whatever its exit code: attw exits 1 on problems). */
function capture(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: out, stderr: err }));
  });
}

/** Runs `task` over `items` with at most `limit` at a time (2 cores). */
async function eachLimited(items, limit, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

/** Every string in an `exports` map (conditions nested at any depth). */
function exportTargets(value) {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(exportTargets);
  if (value && typeof value === "object") return Object.values(value).flatMap(exportTargets);
  return [];
}

/**
 * Files of the tarball that nothing reaches: starting from the manifest's entry points (exports,
 * main, module, types, bin), follow the relative specifiers of `import`, `export ... from`,
 * `import()` and `require()` in JavaScript and declaration files. README, LICENSE, CHANGELOG and
 * package.json do not count. Rollup does not empty dist/, so an incremental build leaves old
 * hashed chunks behind, and they would be published.
 */
function unreferencedFiles(p) {
  const m = p.manifest;
  const bins = typeof m.bin === "string" ? [m.bin] : Object.values(m.bin ?? {});
  const roots = [...exportTargets(m.exports), m.main, m.module, m.types, m.typings, ...bins].filter(Boolean);
  const normal = (f) => f.replace(/^\.\//, "");
  const reached = new Set();
  const queue = roots.map(normal).filter((f) => p.files.includes(f));
  const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;
  while (queue.length > 0) {
    const file = queue.pop();
    if (reached.has(file)) continue;
    reached.add(file);
    if (!/\.(c|m)?(j|t)s$/.test(file)) continue;
    const text = readFileSync(join(p.installed, file), "utf8");
    for (const match of text.matchAll(specifier)) {
      const target = relative(p.installed, join(p.installed, dirname(file), match[1]))
        .split(sep)
        .join("/");
      // declaration files name their siblings by the JavaScript extension
      for (const candidate of [
        target,
        target.replace(/\.js$/, ".d.ts"),
        target.replace(/\.cjs$/, ".d.cts"),
      ]) {
        if (p.files.includes(candidate) && !reached.has(candidate)) queue.push(candidate);
      }
    }
  }
  return p.files.filter(
    (f) => !reached.has(f) && !/^(package\.json|README\.md|LICENSE(\.md)?|CHANGELOG\.md)$/i.test(f),
  );
}

const started = Date.now();
const pkgs = publishedPackages();
const missingBuild = pkgs.filter((p) => !existsSync(join(p.dir, "dist")));
if (missingBuild.length > 0) {
  for (const p of missingBuild)
    line(false, "build", p.manifest.name, "dist/ is missing: run `pnpm build` first");
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), "certbound-packaging-"));
try {
  // ---- pack and unpack ----
  const tarballs = join(work, "tarballs");
  const consumer = join(work, "consumer");
  mkdirSync(tarballs);
  mkdirSync(join(consumer, "node_modules", "@certbound"), { recursive: true });
  writeFileSync(join(consumer, "package.json"), '{ "name": "consumer", "private": true }\n');
  for (const p of pkgs) {
    p.installed = join(consumer, "node_modules", ...p.manifest.name.split("/"));
    Object.assign(p, packAndUnpack(p.dir, tarballs, p.installed));
  }

  // ---- 1. size budget ----
  if (writeBudget) {
    const kib = (n) => Math.ceil((n * BUDGET_MARGIN) / 1024) * 1024;
    const budget = {
      $comment: `Max bytes per published package: packed = the .tgz from \`pnpm pack\`, unpacked = the sum of its files. Set by \`node scripts/check-packages.mjs --write-budget\` to the sizes of ${new Date().toISOString().slice(0, 10)} + ${Math.round((BUDGET_MARGIN - 1) * 100)} %, rounded up to KiB. Raise a budget on purpose, in its own commit, saying why.`,
      packages: Object.fromEntries(
        pkgs.map((p) => [p.manifest.name, { packed: kib(p.packed), unpacked: kib(p.unpacked) }]),
      ),
    };
    mkdirSync(dirname(budgetFile), { recursive: true });
    writeFileSync(budgetFile, `${JSON.stringify(budget, null, 2)}\n`);
    console.log(`wrote ${relative(root, budgetFile)}`);
  }
  const budget = existsSync(budgetFile) ? readJson(budgetFile).packages : {};
  for (const p of pkgs) {
    const limit = budget[p.manifest.name];
    const sizes = `${p.packed} B packed, ${p.unpacked} B unpacked`;
    if (!limit) {
      line(
        false,
        "size",
        p.manifest.name,
        `${sizes}; no budget in packaging/size-budget.json (--write-budget)`,
      );
      continue;
    }
    const over = [];
    if (p.packed > limit.packed) over.push(`packed ${p.packed} > ${limit.packed}`);
    if (p.unpacked > limit.unpacked) over.push(`unpacked ${p.unpacked} > ${limit.unpacked}`);
    line(
      over.length === 0,
      "size",
      p.manifest.name,
      over.length
        ? `over budget: ${over.join(", ")}`
        : `${sizes} (budget ${limit.packed} / ${limit.unpacked})`,
    );
  }

  // ---- 2. contents ----
  for (const p of pkgs) {
    const problems = [];
    if (!p.files.includes("README.md")) problems.push("README.md is not in the tarball");
    const stale = unreferencedFiles(p);
    if (stale.length > 0) {
      problems.push(
        `${stale.length} file(s) that no entry point reaches (leftovers of an earlier build when dist/ is not emptied, or outputs nothing imports): ${stale.join(", ")}`,
      );
    }
    const bins =
      typeof p.manifest.bin === "string" ? { [p.manifest.name]: p.manifest.bin } : (p.manifest.bin ?? {});
    for (const [name, file] of Object.entries(bins)) {
      const path = join(p.installed, file);
      if (!existsSync(path)) problems.push(`bin ${name} (${file}) is not in the tarball`);
      else if (!readFileSync(path, "utf8").startsWith("#!/usr/bin/env node")) {
        problems.push(`bin ${name} (${file}) does not start with #!/usr/bin/env node`);
      }
    }
    line(
      problems.length === 0,
      "contents",
      p.manifest.name,
      problems.join("; ") || `${p.files.length} files`,
    );
  }

  // ---- 3. publint, on the tarball ----
  for (const p of pkgs) {
    const bytes = readFileSync(p.tarball);
    const { messages, pkg } = await publint({
      pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
      level: "suggestion",
    });
    const serious = messages.filter((m) => m.type !== "suggestion");
    const text = (m) => `${m.type}: ${formatMessage(m, pkg, { color: false }) ?? m.code}`;
    line(serious.length === 0, "publint", p.manifest.name, messages.map(text).join("; "));
  }

  // ---- 4. are-the-types-wrong, on the tarball ----
  const requireFromRoot = createRequire(join(root, "package.json"));
  const attwManifestPath = requireFromRoot.resolve("@arethetypeswrong/cli/package.json");
  const attwBin = join(dirname(attwManifestPath), readJson(attwManifestPath).bin.attw);
  await eachLimited(pkgs, 2, async (p) => {
    const { stdout, stderr } = await capture(process.execPath, [attwBin, p.tarball, "--format", "json"]);
    let analysis;
    try {
      analysis = JSON.parse(stdout).analysis;
    } catch {
      line(false, "attw", p.manifest.name, `no JSON from attw: ${(stderr || stdout).trim().slice(0, 300)}`);
      return;
    }
    const problems = analysis.problems ?? [];
    const tolerated = problems.filter(
      (x) =>
        NODE10_SUBPATHS === "tolerated" &&
        x.kind === "NoResolution" &&
        x.resolutionKind === "node10" &&
        x.entrypoint !== ".",
    );
    const real = problems.filter((x) => !tolerated.includes(x));
    const describe = (x) =>
      `${x.kind}${x.entrypoint ? ` ${x.entrypoint}` : ""}${x.resolutionKind ? ` (${x.resolutionKind})` : ""}`;
    const entries = Object.keys(analysis.entrypoints ?? {}).join(", ");
    const node10 = tolerated.length
      ? `node10 the root entry only (tolerated: ${tolerated.map(describe).join("; ")})`
      : "node10 too";
    line(
      real.length === 0,
      "attw",
      p.manifest.name,
      real.length
        ? real.map(describe).join("; ")
        : `types of ${entries} resolve for node16 ESM, node16 CJS and bundler; ${node10}`,
    );
  });

  // ---- 5. consumer smoke test ----
  // Runtime dependencies (and peers such as undici, axios) come from the workspace as links.
  for (const p of pkgs) {
    const deps = { ...p.manifest.dependencies, ...p.manifest.peerDependencies };
    for (const dep of Object.keys(deps)) {
      if (dep.startsWith("@certbound/") || p.manifest.peerDependenciesMeta?.[dep]?.optional) continue;
      const target = join(consumer, "node_modules", ...dep.split("/"));
      if (existsSync(target)) continue;
      const source = resolvePackageDir(dep, p.dir);
      if (!source) {
        line(false, "smoke", p.manifest.name, `its dependency ${dep} is not installed in the workspace`);
        continue;
      }
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(source, target, "dir");
    }
  }
  const plan = pkgs.map((p) => {
    const entries = Object.keys(p.manifest.exports ?? { ".": null }).filter(
      (e) => !e.endsWith("package.json"),
    );
    return { name: p.manifest.name, entries, expected: EXPECTED_EXPORTS[p.manifest.name] ?? {} };
  });
  writeFileSync(join(consumer, "smoke.mjs"), smokeScript());
  const smoke = await capture(process.execPath, ["smoke.mjs", JSON.stringify(plan)], { cwd: consumer });
  const outcomes = smoke.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
  for (const p of pkgs) {
    const mine = outcomes.filter((o) => o.name === p.manifest.name);
    if (mine.length === 0) {
      line(
        false,
        "smoke",
        p.manifest.name,
        `the smoke test printed nothing: ${smoke.stderr.trim().slice(0, 400)}`,
      );
      continue;
    }
    for (const o of mine)
      line(o.ok, "smoke", `${p.manifest.name}${o.entry === "." ? "" : o.entry.slice(1)}`, o.detail);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(
  `${failures.length === 0 ? "packaging checks passed" : `${failures.length} packaging check(s) failed`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
process.exit(failures.length === 0 ? 0 : 1);

/** The consumer's script: resolves, imports and requires each entry; one JSON line per entry. */
function smokeScript() {
  return `import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
const require = createRequire(import.meta.url);
const plan = JSON.parse(process.argv[2]);
const inside = (file) => file.startsWith(process.cwd());
for (const { name, entries, expected } of plan) {
  for (const entry of entries) {
    const spec = entry === "." ? name : name + entry.slice(1);
    const report = (ok, detail) => console.log(JSON.stringify({ name, entry, ok, detail }));
    try {
      if (!(entry in expected)) {
        report(false, "no expected exports listed for " + spec + " in scripts/check-packages.mjs (EXPECTED_EXPORTS)");
        continue;
      }
      const esmFile = fileURLToPath(import.meta.resolve(spec));
      const cjsFile = require.resolve(spec);
      if (!inside(esmFile) || !inside(cjsFile)) {
        report(false, "resolved outside the consumer project: " + esmFile + ", " + cjsFile);
        continue;
      }
      const names = expected[entry];
      if (names === null) {
        report(true, "resolves (import: " + esmFile.split("node_modules/")[1] + ", require: " + cjsFile.split("node_modules/")[1] + "); not executed");
        continue;
      }
      const esm = await import(spec);
      const cjs = require(spec);
      const missing = names.flatMap((n) => [
        ...(esm[n] === undefined ? ["import: " + n] : []),
        ...(cjs[n] === undefined ? ["require: " + n] : []),
      ]);
      const esmNames = Object.keys(esm).filter((k) => k !== "default").sort();
      const cjsNames = Object.keys(cjs).filter((k) => k !== "default").sort();
      const drift = esmNames.filter((k) => !cjsNames.includes(k)).concat(cjsNames.filter((k) => !esmNames.includes(k)));
      if (missing.length) report(false, "missing exports: " + missing.join(", "));
      else if (drift.length) report(false, "import() and require() export different names: " + drift.join(", "));
      else report(true, "import() and require() give the same " + esmNames.length + " exports, incl. " + names.join(", "));
    } catch (error) {
      report(false, String(error && error.message ? error.message : error).split("\\n")[0]);
    }
  }
}
`;
}
