// `pnpm bench`: certbound side by side with @azure/msal-node 7.2.3 against the local emulator.
// Prints a Markdown table and the targets, and writes bench/results/latest.json.
//
// Process layout. msal-node trusts a private CA only through NODE_EXTRA_CA_CERTS, which Node reads
// once at start-up, and the emulator's CA exists only once the emulator has started. So this
// process starts the emulator, writes its CA to a file, and runs each library in a child process
// (`node --expose-gc --import tsx worker-*.ts`), msal-node's with NODE_EXTRA_CA_CERTS and
// AZURE_POD_IDENTITY_AUTHORITY_HOST set. Re-spawning the whole bench with the variable set would
// work too, but this layout has two more merits: the emulator never shares an event loop with the
// client being measured (2 cores: one serves, one measures), and both libraries are measured the
// same way, each in a fresh process. The children read the emulator's counters over the IPC
// channel (emulator-link.ts). certbound's child gets no such variables: it is given the CA and
// the endpoints through its options.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { DEFAULT_DURATION_MS } from "./cache-hit";
import { registerBenchApp, serveWorker } from "./emulator-link";
import { measureFootprint } from "./footprint";
import { progress } from "./measure-tools";
import { buildRows, evaluateTargets, markdownTable } from "./report";
import type { CertboundResult, MsalResult } from "./result-types";

const benchDir = dirname(fileURLToPath(import.meta.url));
const started = performance.now();

for (const pkg of ["core", "credential-cert", "credential-msi", "http-undici", "emulator"]) {
  if (!existsSync(join(benchDir, "..", "packages", pkg, "dist", "index.js"))) {
    console.error(
      `packages/${pkg}/dist is missing: the bench measures the built packages. Run \`pnpm bench\` from the repository root (it builds first), or \`pnpm exec turbo run build\`.`,
    );
    process.exit(1);
  }
}

function machine() {
  const cpuinfo = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  return {
    cpus: availableParallelism(),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
const host = machine();

function runWorkerProcess<T>(file: string, emu: Emulator, env: NodeJS.ProcessEnv): Promise<T> {
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", join(benchDir, file)], {
    cwd: benchDir,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env,
  });
  return serveWorker<T>(child, emu);
}

// msal-node reuses one signed client assertion for about ten minutes; like Entra, the emulator
// accepts that by default (its jti replay check is opt-in).
const emu = await startEmulator();
const scratch = mkdtempSync(join(tmpdir(), "certbound-bench-"));
let certbound: CertboundResult;
let msal: MsalResult;
try {
  const caFile = join(scratch, "emulator-ca.pem");
  writeFileSync(caFile, emu.caCertificatePem);
  // An app registration with an RSA certificate: msal-node signs its client assertions PS256.
  const setup = registerBenchApp(emu);
  const base: NodeJS.ProcessEnv = { ...process.env, BENCH_SETUP: JSON.stringify(setup) };
  delete base.NODE_EXTRA_CA_CERTS;
  delete base.AZURE_POD_IDENTITY_AUTHORITY_HOST;

  progress(`emulator up; certbound worker (node ${host.node}, ${host.cpus} CPUs)`);
  certbound = await runWorkerProcess<CertboundResult>("worker-certbound.ts", emu, base);
  progress("msal-node worker");
  msal = await runWorkerProcess<MsalResult>("worker-msal.ts", emu, {
    ...base,
    NODE_EXTRA_CA_CERTS: caFile,
    AZURE_POD_IDENTITY_AUTHORITY_HOST: emu.imdsEndpoint,
  });
} finally {
  await emu.close();
  rmSync(scratch, { recursive: true, force: true });
}

progress("footprint (pnpm pack)");
const footprint = await measureFootprint();
const rows = buildRows(certbound, msal, footprint);
const targets = evaluateTargets(certbound, msal, footprint);
const elapsedSeconds = Math.round((performance.now() - started) / 100) / 10;

const resultsTable = markdownTable(
  ["", "measure", "certbound", "@azure/msal-node 7.2.3", "ratio", "note"],
  rows.map((r) => [r.section, r.measure, r.certbound, r.msalNode, r.ratio, r.note]),
);
const targetsTable = markdownTable(
  ["target", "measured", "met"],
  targets.map((t) => [t.target, t.measured, t.met ? "yes" : "**no**"]),
);
const machineLine = `${host.cpus} CPUs (${host.cpuModel}), Node ${host.node}, ${host.platform}, load average at start ${host.loadAverageAtStart.join(" / ")}; ${DEFAULT_DURATION_MS} ms per cache-hit measurement; whole run ${elapsedSeconds} s`;
const report = `${resultsTable}\n\n${targetsTable}\n\n${machineLine}`;
console.log(`\n${report}\n`);

// BENCH_UPDATE_README=1 puts this run's report into bench/README.md, between its markers.
if (process.env.BENCH_UPDATE_README === "1") {
  const readme = join(benchDir, "README.md");
  const text = readFileSync(readme, "utf8");
  const start = "<!-- results:start -->";
  const end = "<!-- results:end -->";
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`bench/README.md has no ${start} ... ${end} section`);
  const dated = `Run of ${new Date().toISOString().slice(0, 10)}: ${machineLine}.\n\n${resultsTable}\n\n${targetsTable}`;
  writeFileSync(readme, `${text.slice(0, from + start.length)}\n${dated}\n${text.slice(to)}`);
  progress("updated the results in bench/README.md");
}

const resultsDir = join(benchDir, "results");
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  join(resultsDir, "latest.json"),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { ...host, loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
      durationMsPerCacheHitMeasurement: DEFAULT_DURATION_MS,
      elapsedSeconds,
      rows,
      targets,
      raw: { certbound, msalNode: msal, footprint },
    },
    null,
    2,
  )}\n`,
);
progress(`wrote bench/results/latest.json in ${elapsedSeconds} s`);
