import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Emulator, ManagedIdentityInfo, ManagedIdentitySourceName } from "@certbound/emulator";
// The published CLI loads the library entry instead of bundling a second copy of it.
import { startEmulator } from "@certbound/emulator";
import { type CliOptions, parseCliArgs, USAGE } from "./cli-options";

const SOURCES: readonly ManagedIdentitySourceName[] = [
  "imds",
  "appService",
  "serviceFabric",
  "azureArc",
  "cloudShell",
  "machineLearning",
];

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    options = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (options.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }

  const emulator = await startEmulator(options.emulator);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(signal === "SIGINT" ? 130 : 143);
    stopping = true;
    emulator
      .close()
      .catch(() => undefined)
      .finally(() => {
        if (options.caFileIsTemporary) rmSync(options.caFile, { force: true });
        process.exit(0);
      });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));

  try {
    for (const client of options.clients) emulator.registerConfidentialClient(client);
    const userAssigned = options.managedIdentities.map((m) => emulator.registerManagedIdentity(m));
    // The Service Fabric certificate too: @azure/msal-node and @azure/identity do not pin
    // IDENTITY_SERVER_THUMBPRINT, they trust what NODE_EXTRA_CA_CERTS names.
    writeFileSync(options.caFile, `${emulator.caCertificatePem}${emulator.serviceFabricCertificatePem}`);
    process.stdout.write(
      options.json
        ? `${JSON.stringify(summary(emulator, options, userAssigned))}\n`
        : text(emulator, options, userAssigned),
    );
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    await emulator.close();
    process.exitCode = 1;
  }
}

/** This package's version, from its package.json (one folder up from both src/cli.ts and dist/cli.js). */
function packageVersion(): string {
  const manifest = fileURLToPath(new URL("../package.json", import.meta.url));
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

function summary(emulator: Emulator, options: CliOptions, userAssigned: ManagedIdentityInfo[]) {
  return {
    tenantId: emulator.tenantId,
    imdsEndpoint: emulator.imdsEndpoint,
    authorityHost: emulator.authorityHost,
    mtlsAuthorityHost: emulator.mtlsAuthorityHost,
    resourceUrl: emulator.resourceUrl,
    ...(emulator.inspectorUrl ? { inspectorUrl: emulator.inspectorUrl } : {}),
    caFile: options.caFile,
    arcTokenFolder: emulator.arcTokenFolder,
    systemAssignedIdentity: emulator.systemAssignedIdentity,
    userAssignedIdentities: userAssigned,
    confidentialClients: options.clients.map((c) => c.clientId),
    environment: { NODE_EXTRA_CA_CERTS: options.caFile, ...emulator.managedIdentityEnvironment("imds") },
    sources: Object.fromEntries(SOURCES.map((s) => [s, emulator.managedIdentityEnvironment(s)])),
  };
}

function text(emulator: Emulator, options: CliOptions, userAssigned: ManagedIdentityInfo[]): string {
  const lines = [
    `certbound emulator running (tenant ${emulator.tenantId})`,
    "",
    `  IMDS                  ${emulator.imdsEndpoint}`,
    `  Entra (regular host)  ${emulator.authorityHost}/${emulator.tenantId}`,
    `  Entra (mTLS host)     ${emulator.mtlsAuthorityHost}/${emulator.tenantId}`,
    `  Protected resource    ${emulator.resourceUrl}  (scope ${emulator.resourceUrl}/.default)`,
    `  CA certificate        ${options.caFile}`,
    ...(emulator.inspectorUrl ? [`  Inspector (browser)   ${emulator.inspectorUrl}`] : []),
    `  System-assigned MI    client id ${emulator.systemAssignedIdentity.clientId}`,
    ...userAssigned.map((m) => `  User-assigned MI      client id ${m.clientId}, object id ${m.objectId}`),
    ...options.clients.map((c) => `  Confidential client   ${c.clientId}`),
    "",
    "Environment for IMDS (managed identity on a VM):",
    `  export NODE_EXTRA_CA_CERTS=${options.caFile}`,
    ...Object.entries(emulator.managedIdentityEnvironment("imds")).map(([k, v]) => `  export ${k}=${v}`),
    "",
    "Other managed-identity sources (export one block instead):",
    ...SOURCES.filter((s) => s !== "imds").flatMap((s) => [
      `  # ${s}`,
      ...Object.entries(emulator.managedIdentityEnvironment(s)).map(([k, v]) => `  export ${k}=${v}`),
    ]),
    "",
    "Ready. Press Ctrl+C to stop.",
    "",
  ];
  return lines.join("\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`certbound-emulator: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
