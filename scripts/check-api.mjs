#!/usr/bin/env node
// The public API of every published package, as API Extractor sees it in the built declarations,
// is committed under packages/<pkg>/api/ (one report per entry point). This check fails when the
// built API differs from the committed report, so every change of the contract shows up in review.
//
//   node scripts/check-api.mjs            check (CI: `npm test` runs it after the build)
//   node scripts/check-api.mjs --write    refresh the reports (`pnpm run api:update`), then commit them
//
// Run it after `turbo run build`: it reads the declarations in dist/, never the sources. It starts
// at each entry's ESM types (dist/<entry>.d.ts, a one-line `export * from "./<entry>.cjs"`, see
// rollup.type-stubs.mjs) and follows the stub into the .d.cts file, as a consumer's compiler does.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Extractor, ExtractorConfig } from "@microsoft/api-extractor";

const root = fileURLToPath(new URL("..", import.meta.url));
const write = process.argv.includes("--write");

/** Every published package's entry points with their .d.ts: [{ pkgDir, name, subpath, types }]. */
export function apiEntries() {
  const entries = [];
  for (const dir of readdirSync(join(root, "packages")).sort()) {
    const pkgDir = join(root, "packages", dir);
    const manifestPath = join(pkgDir, "package.json");
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    if (manifest.private) continue;
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const types = target?.import?.types;
      if (typeof types !== "string") continue;
      entries.push({ pkgDir, dir, name: manifest.name, subpath, types: join(pkgDir, types) });
    }
  }
  return entries;
}

/** packages/core/api/core.api.md for ".", packages/core/api/core-credential-kit.api.md for "./credential-kit". */
function reportName(entry) {
  return entry.subpath === "." ? entry.dir : `${entry.dir}-${entry.subpath.slice(2).replaceAll("/", "-")}`;
}

// Messages that describe the API rather than break the check go into the report itself, where a
// reviewer sees them (an export without a release tag, say). Two stay out: a type one entry point
// references but another exports (credential-kit's signatures name root types such as TokenResult)
// is by design, and members without TSDoc would list rollup's hashed chunk files and line numbers,
// which change with every unrelated edit.
const messages = {
  compilerMessageReporting: { default: { logLevel: "warning" } },
  extractorMessageReporting: {
    default: { logLevel: "warning", addToApiReportFile: true },
    "ae-forgotten-export": { logLevel: "none", addToApiReportFile: false },
    "ae-undocumented": { logLevel: "none", addToApiReportFile: false },
    "ae-missing-release-tag": { logLevel: "none", addToApiReportFile: true },
    "ae-incompatible-release-tags": { logLevel: "none", addToApiReportFile: true },
    "ae-internal-missing-underscore": { logLevel: "none", addToApiReportFile: false },
    "ae-unresolved-link": { logLevel: "none", addToApiReportFile: false },
  },
  // TSDoc syntax is the house style's concern (scripts/check-tsdoc.mjs), not the API's.
  tsdocMessageReporting: { default: { logLevel: "none" } },
};

function runEntry(entry, tempFolder) {
  const configObject = {
    projectFolder: entry.pkgDir,
    mainEntryPointFilePath: entry.types,
    compiler: {
      overrideTsconfig: {
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2023", "ESNext.Disposable"],
          module: "ESNext",
          moduleResolution: "Bundler",
          types: ["node"],
          strict: true,
          skipLibCheck: true,
          esModuleInterop: true,
        },
        files: [entry.types],
      },
    },
    apiReport: {
      enabled: true,
      reportFileName: reportName(entry),
      reportFolder: join(entry.pkgDir, "api"),
      reportTempFolder: tempFolder,
      includeForgottenExports: false,
    },
    docModel: { enabled: false },
    dtsRollup: { enabled: false },
    tsdocMetadata: { enabled: false },
    messages,
  };
  const config = ExtractorConfig.prepare({
    configObject,
    configObjectFullPath: undefined,
    packageJsonFullPath: join(entry.pkgDir, "package.json"),
  });
  const problems = [];
  const result = Extractor.invoke(config, {
    localBuild: write,
    messageCallback(message) {
      // The "API changed" notice is this script's own verdict below; everything else is shown.
      const notice = [
        "console-api-report-changed",
        "console-api-report-created",
        "console-api-report-copied",
        "console-api-report-not-copied",
      ];
      if (notice.includes(message.messageId) || message.logLevel === "none") {
        message.handled = true;
        return;
      }
      if (message.logLevel === "error" || message.logLevel === "warning") {
        problems.push(message.formatMessageWithLocation(root));
        message.handled = true;
      } else {
        message.handled = true;
      }
    },
  });
  return { result, problems };
}

/** The lines only one of the two reports has, "-" committed and "+" built, for the CI log. */
function changedLines(committedPath, builtPath) {
  const read = (p) => (existsSync(p) ? readFileSync(p, "utf8").split("\n") : []);
  const committed = read(committedPath);
  const built = read(builtPath);
  const before = new Set(committed);
  const after = new Set(built);
  const lines = [
    ...committed.filter((l) => !after.has(l)).map((l) => `  - ${l}`),
    ...built.filter((l) => !before.has(l)).map((l) => `  + ${l}`),
  ];
  const shown = lines.slice(0, 40);
  if (lines.length > shown.length) shown.push(`  ... ${lines.length - shown.length} more`);
  return shown.length ? `:\n${shown.join("\n")}` : "";
}

export function checkApi() {
  if (!existsSync(join(root, "packages/core/dist/index.d.ts"))) {
    throw new Error("no packages/core/dist: run `pnpm exec turbo run build` first");
  }
  const tempFolder = mkdtempSync(join(tmpdir(), "certbound-api-"));
  const failures = [];
  try {
    for (const entry of apiEntries()) {
      const report = join(entry.pkgDir, "api", `${reportName(entry)}.api.md`);
      const label = `${entry.name}${entry.subpath === "." ? "" : entry.subpath.slice(1)}`;
      if (write) mkdirSync(join(entry.pkgDir, "api"), { recursive: true });
      const { result, problems } = runEntry(entry, tempFolder);
      for (const p of problems) failures.push(`${label}: ${p}`);
      if (result.apiReportChanged && !write) {
        failures.push(
          `${label}: the public API differs from ${relative(root, report)}; review the change, then run \`pnpm run api:update\` and commit the report${changedLines(report, join(tempFolder, `${reportName(entry)}.api.md`))}`,
        );
      }
      console.log(
        `[api] ${label}: ${write ? (result.apiReportChanged ? "report written" : "unchanged") : result.apiReportChanged ? "CHANGED" : "matches the report"}`,
      );
    }
  } finally {
    rmSync(tempFolder, { recursive: true, force: true });
  }
  return failures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const failures = checkApi();
  for (const f of failures) console.error(f);
  if (failures.length) process.exit(1);
}
