#!/usr/bin/env node
// Packaging checks for every published package (packages/* that are not private), run after the
// build. All checks look at the tarballs that would be published, packed by the same code as
// `pnpm run pack:all` (scripts/workspace-packages.mjs: `pnpm pack`, which turns `workspace:^`
// into real ranges as `changeset publish` does; `npm pack` would leave them in place):
//   1. size budget: packed and unpacked bytes under packaging/size-budget.json
//   2. contents: README.md, LICENSE and every `bin` file (with its shebang) are in the tarball;
//      repository, homepage and bugs are in the manifest
//   3. publint (errors and warnings fail; suggestions are printed)
//   4. are-the-types-wrong: every entry's types resolve for node10, node16 ESM and CJS, bundler
//   5. consumer project: a temporary project installs the tarballs with npm (their dependencies
//      and peers come from the registry or npm's cache), then
//      - install: `npm install` succeeds, and `npm ls --all` exits 0 and reports nothing unmet,
//        missing, invalid or extraneous
//      - bin: every `bin` npm linked answers `--version` with the package version
//      - smoke: a child process `import()`s and `require()`s every entry and checks named exports
//      - types: tsc type-checks packaging/consumer/main-api.ts (each package's main API) under
//        moduleResolution node10, node16 (CJS and ESM) and bundler, and finds a type error in each
//        call of packaging/consumer/wrong-calls.ts (so no entry's types are `any`)
//      - tsdoc: under each of those, every name main-api.ts imports shows its TSDoc
// One line per check; exit code 1 when any fails.
//
//   node scripts/check-packages.mjs                 run the checks
//   node scripts/check-packages.mjs --write-budget  set the budget to today's sizes + 10 %
import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { importedDocs } from "./consumer-tsdoc.mjs";
import { packAll, publishedPackages, readJson, root, unpack } from "./workspace-packages.mjs";

const budgetFile = join(root, "packaging", "size-budget.json");
const writeBudget = process.argv.includes("--write-budget");
const BUDGET_MARGIN = 1.1;

/**
 * Named exports each entry must offer, from `import()` and from `require()` alike. A package or
 * entry point missing here fails the check, so a new one gets its smoke test written down.
 * `{ importOnly: [...] }`: check `import()` only and that `require()` still resolves.
 * `@certbound/testing` imports vitest (an optional peer, installed in the consumer below), whose
 * CommonJS entry throws on `require()` by design ("Vitest cannot be imported in a CommonJS module"),
 * so that package's CommonJS build loads only where vitest serves it as ESM.
 */
const EXPECTED_EXPORTS = {
  "@certbound/core": {
    ".": [
      "createMemoryCacheStore",
      "CertboundError",
      "ResourceCaller",
      "MtlsPopTokenAcquirer",
      "DIAGNOSTICS_CHANNELS",
    ],
    "./credential-kit": [
      "createTokenManager",
      "sendWithRetry",
      "parseTokenResponse",
      "x5tS256",
      "AcquisitionBudget",
    ],
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
  "@certbound/http-undici": { ".": ["createUndiciTransport", "createPopFetch"] },
  "@certbound/http-axios": { ".": ["createAxiosTransport"] },
  "@certbound/emulator": { ".": ["startEmulator"] },
  "@certbound/cli": { ".": ["runCli", "EXIT_CODES"] },
  "@certbound/azure": {
    ".": ["certboundClientOptions", "createCertboundTokenCredential", "createBindingCertificatePolicy"],
  },
  "@certbound/otel": { ".": ["instrumentCertbound", "TELEMETRY_NAMES"] },
  "@certbound/resource-server": {
    ".": ["createTokenValidator", "createNodeAuthenticator", "TokenValidationError"],
    "./express": ["requireAccessToken", "TokenValidationError"],
    "./fastify": ["accessTokenPlugin", "TokenValidationError"],
  },
  "@certbound/cache-redis": { ".": ["createRedisCacheStore", "redisClusterClient"] },
  "@certbound/testing": {
    ".": {
      importOnly: [
        "testHttpTransport",
        "testCacheStore",
        "createTestClock",
        "jsonCacheStore",
        "createCertificateAuthority",
      ],
    },
  },
};

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
  for (const p of packAll(tarballs)) {
    const mine = pkgs.find((q) => q.dir === p.dir);
    mine.tarball = p.tarball;
    mine.installed = join(work, "unpacked", p.folder);
    Object.assign(mine, unpack(p.tarball, mine.installed));
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
    for (const file of ["README.md", "LICENSE"]) {
      if (!p.files.includes(file)) problems.push(`${file} is not in the tarball`);
    }
    const m = p.manifest;
    if (m.repository?.directory !== `packages/${p.folder}` || !m.repository?.url) {
      problems.push(`repository must have url and directory "packages/${p.folder}"`);
    }
    if (!m.homepage) problems.push("homepage is missing");
    if (!m.bugs?.url) problems.push("bugs.url is missing");
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
    const describe = (x) =>
      `${x.kind}${x.entrypoint ? ` ${x.entrypoint}` : ""}${x.resolutionKind ? ` (${x.resolutionKind})` : ""}`;
    const entries = Object.keys(analysis.entrypoints ?? {}).join(", ");
    line(
      problems.length === 0,
      "attw",
      p.manifest.name,
      problems.length
        ? problems.map(describe).join("; ")
        : `types of ${entries} resolve for node10, node16 ESM, node16 CJS and bundler`,
    );
  });

  // ---- 5. consumer project, installed with npm ----
  const consumer = join(work, "consumer");
  mkdirSync(consumer);
  writeFileSync(join(consumer, "package.json"), '{ "name": "consumer", "private": true }\n');
  const typesNode = `@types/node@${readJson(join(root, "package.json")).devDependencies["@types/node"]}`;
  const npm = (args) =>
    capture("npm", [...args, "--no-audit", "--no-fund", "--no-update-notifier"], {
      cwd: consumer,
      env: npmEnv(),
    });
  // Optional peers (a framework entry's express or fastify, @certbound/testing's vitest): the consumer
  // installs them as an app using that entry would, at the version the package tests with (its
  // devDependencies pin).
  const optionalPeers = pkgs.flatMap((p) =>
    Object.entries(p.manifest.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta?.optional)
      .map(([name]) => `${name}@${p.manifest.devDependencies?.[name] ?? p.manifest.peerDependencies[name]}`),
  );
  const installStarted = Date.now();
  const install = await npm([
    "install",
    "--prefer-offline",
    ...pkgs.map((p) => p.tarball),
    typesNode,
    ...optionalPeers,
  ]);
  const installMs = Date.now() - installStarted;
  if (install.code !== 0) {
    line(false, "install", "consumer", `npm install failed: ${tail(install.stderr || install.stdout)}`);
  } else {
    // `npm ls` prints an unmet optional peer (a framework entry's express, say) as
    // "UNMET OPTIONAL DEPENDENCY" and still exits 0; an app that never imports that entry should
    // not see it, so it fails here too. Only certbound's own: the optional peers of a third-party
    // package installed for one of ours (vitest's jsdom, say) are that package's business.
    const ls = await npm(["ls", "--all"]);
    const flagged = npmLsProblems(ls.stdout);
    line(
      ls.code === 0 && flagged.length === 0,
      "install",
      "consumer",
      ls.code !== 0 || flagged.length
        ? `npm ls --all (exit ${ls.code}): ${flagged.join("; ") || tail(ls.stderr)}`
        : `npm installed the ${pkgs.length} tarballs in ${installMs} ms; npm ls --all is clean`,
    );
    // Each bin as npm links it, asked for its version.
    for (const p of pkgs) {
      const bins = typeof p.manifest.bin === "string" ? [p.manifest.name] : Object.keys(p.manifest.bin ?? {});
      for (const bin of bins) {
        const run = await capture(join(consumer, "node_modules", ".bin", bin), ["--version"], {
          cwd: consumer,
        });
        line(
          run.code === 0 && run.stdout.trim() === p.manifest.version,
          "bin",
          p.manifest.name,
          `${bin} --version: exit ${run.code}, printed ${JSON.stringify(run.stdout.trim() || run.stderr.trim().slice(0, 200))}`,
        );
      }
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

  // ---- types: tsc on a consumer file under each moduleResolution ----
  if (install.code === 0) await checkConsumerTypes(consumer);
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(
  `${failures.length === 0 ? "packaging checks passed" : `${failures.length} packaging check(s) failed`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
process.exit(failures.length === 0 ? 0 : 1);

/**
 * The problems in `npm ls --all` text output: every line saying UNMET, missing, invalid or
 * extraneous, except an unmet optional dependency of a package that is not certbound's (the tree's
 * indentation tells whose dependency a line is).
 */
function npmLsProblems(text) {
  const above = []; // [indent, entry] of the enclosing lines, the tree's root first
  const problems = [];
  for (const raw of text.split("\n")) {
    if (!raw.trim()) continue;
    const indent = raw.match(/^[\s│├└─┬]*/)[0].length;
    const entry = raw.slice(indent);
    while (above.length > 0 && above.at(-1)[0] >= indent) above.pop();
    const owner = above.length > 1 ? above.at(-1)[1] : undefined; // undefined: the consumer itself
    above.push([indent, entry]);
    if (!/UNMET|missing|invalid|extraneous/i.test(entry)) continue;
    const foreignOptional =
      entry.startsWith("UNMET OPTIONAL DEPENDENCY ") &&
      owner !== undefined &&
      !owner.startsWith("@certbound/");
    if (!foreignOptional) problems.push(entry);
  }
  return problems;
}

/** The last lines of a command's output, for a failure message. */
function tail(text) {
  return text.trim().split("\n").slice(-6).join(" | ").slice(0, 600);
}

/** This process's environment without the npm/pnpm settings a parent `pnpm exec` passes down. */
function npmEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(npm|pnpm)_config_/i.test(k) && k !== "PNPM_PACKAGE_NAME"),
  );
}

/**
 * Type-checks packaging/consumer/main-api.ts and wrong-calls.ts in the consumer project with the
 * workspace's tsc under moduleResolution node10 (module commonjs), node16 (module node16; the files
 * as .cts and as .mts) and bundler (module preserve), without skipLibCheck (it checks a superset of
 * what skipLibCheck does: TS2353 on `createUndiciTransport({ ca })` under node10 showed with both).
 * A type of one package that reaches another's subpath only through `exports` fails node10 here
 * even though each package alone passes are-the-types-wrong. wrong-calls.ts holds calls that must
 * fail (each under `@ts-expect-error`), so an entry whose types resolve to `any` fails too. Then,
 * per mode, every name main-api.ts imports must carry its TSDoc as the type checker (and so an
 * editor) finds it: the comments live in the `.d.cts` files only, behind one-line `.d.ts` stubs.
 */
async function checkConsumerTypes(consumer) {
  const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
  const sources = ["main-api", "wrong-calls"];
  const modes = [
    { moduleResolution: "node10", ext: ".ts", module: "commonjs" },
    { moduleResolution: "node16", ext: ".cts", module: "node16" },
    { moduleResolution: "node16", ext: ".mts", module: "node16" },
    { moduleResolution: "bundler", ext: ".ts", module: "preserve" },
  ];
  for (const ext of new Set(modes.map((m) => m.ext))) {
    for (const name of sources) {
      copyFileSync(join(root, "packaging", "consumer", `${name}.ts`), join(consumer, `${name}${ext}`));
    }
  }
  const compilerOptions = (m) => ({
    noEmit: true,
    strict: true,
    target: "es2022",
    lib: ["es2022"],
    types: ["node"],
    module: m.module,
    moduleResolution: m.moduleResolution,
  });
  const label = (m) => `consumer (${m.moduleResolution}, ${m.ext})`;
  await eachLimited(modes, 2, async (m) => {
    const flags = Object.entries(compilerOptions(m)).flatMap(([k, v]) =>
      v === true ? [`--${k}`] : [`--${k}`, Array.isArray(v) ? v.join(",") : v],
    );
    const files = sources.map((name) => `${name}${m.ext}`);
    const result = await capture(process.execPath, [tsc, "--pretty", "false", ...flags, ...files], {
      cwd: consumer,
    });
    line(
      result.code === 0,
      "types",
      label(m),
      result.code === 0
        ? "packaging/consumer/main-api.ts type-checks against the tarballs, and each call in wrong-calls.ts is a type error"
        : tail(result.stdout || result.stderr),
    );
  });
  for (const m of modes) {
    const docs = importedDocs({
      root,
      cwd: consumer,
      file: join(consumer, `main-api${m.ext}`),
      compilerOptions: compilerOptions(m),
    });
    const bare = docs.filter((d) => !d.documented).map((d) => `${d.name} (${d.from}, ${d.declaredIn})`);
    const files = [...new Set(docs.map((d) => d.declaredIn?.replace(/^.*(\.d\.[cm]?ts)$/, "$1")))].join(", ");
    line(
      docs.length > 0 && bare.length === 0,
      "tsdoc",
      label(m),
      bare.length
        ? `no TSDoc reaches ${bare.join(", ")}`
        : `all ${docs.length} names main-api.ts imports show their TSDoc (declared in ${files} files)`,
    );
  }
}

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
      if (names.importOnly) {
        const esm = await import(spec);
        const missing = names.importOnly.filter((n) => esm[n] === undefined);
        if (missing.length) report(false, "missing exports: import: " + missing.join(", "));
        else report(true, "import() gives " + Object.keys(esm).filter((k) => k !== "default").length + " exports, incl. " + names.importOnly.join(", ") + "; require() resolves to " + cjsFile.split("node_modules/")[1] + ", not run");
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
