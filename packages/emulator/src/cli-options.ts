import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { invalidOptions } from "@certbound/core/credential-kit";
import type { ConfidentialClientRegistration, EmulatorOptions, ManagedIdentityInfo } from "./types";

const PKG = "certbound-emulator";

/** Usage text of the `certbound-emulator` command. */
export const USAGE = `Usage: certbound-emulator [options]

Starts a local Entra ID (regular and mTLS hosts), IMDS v1/v2, the other managed-identity
sources and an mTLS-protected resource over real TLS on 127.0.0.1. Stop with Ctrl+C.

Options:
  --config <file>                JSON file with any of the options below (flags win)
  --host <address>               listen address (default 127.0.0.1)
  --imds-port <n>                IMDS port (default: ephemeral, as for every port)
  --authority-port <n>           regular Entra host port
  --mtls-port <n>                mTLS Entra host port
  --resource-port <n>            protected resource port
  --sources-port <n>             App Service / Arc / Cloud Shell / Machine Learning port
  --service-fabric-port <n>      Service Fabric port
  --tenant-id <id>               tenant id (default: a random GUID)
  --token-lifetime <seconds>     access token lifetime (default 3600)
  --certificate-lifetime <s>     lifetime of IMDS-issued certificates (default 604800)
  --imds-v1-only                 IMDS v2 answers 404 (a VM without IMDS v2)
  --require-attestation          issuecredential needs an attestation token from the emulated
                                 attestation service, like IMDS today for unattested keys
  --location <region>            location of /metadata/instance/compute (default westus3)
  --pop-only                     the resource refuses Bearer tokens
  --audience <uri>               an audience the resource accepts (repeatable; default its URL)
  --arc-token-folder <path>      Azure Arc key file folder, or "temporary" (default
                                 /var/opt/azcmagent/tokens where writable, else temporary)
  --arc-legacy-agent             Azure Arc ignores user-assigned identities (an older agent)
  --reject-replayed-assertions   refuse a client assertion whose jti was already used
  --client <id>=<cert.pem>       register a confidential client with a certificate (repeatable)
  --managed-identity <clientId>  add a user-assigned managed identity ("new" = generated; repeatable)
  --ca-file <path>               where to write the emulator's CA (default: a temp file)
  --no-inspector                 do not serve the inspector page ({authority}/_inspector, loopback only)
  --json                         print one JSON line with endpoints and environment
  -h, --help                     show this help
  -v, --version                  print the version of @certbound/emulator

Config file example:
  { "tenantId": "...", "ports": { "imds": 8080 },
    "confidentialClients": [ { "clientId": "app", "certificateFile": "app.pem", "allowedScopes": ["api://x/.default"] } ],
    "managedIdentities": [ { "clientId": "..." } ] }
`;

/** Everything the command line asks for. */
export interface CliOptions {
  help: boolean;
  /** `--version`: print the package version and exit. */
  version: boolean;
  json: boolean;
  /** Absolute path of the CA file, and whether the emulator chose it (then it is removed on exit). */
  caFile: string;
  caFileIsTemporary: boolean;
  emulator: EmulatorOptions;
  clients: ConfidentialClientRegistration[];
  managedIdentities: Partial<ManagedIdentityInfo>[];
}

interface ConfigFile extends EmulatorOptions {
  confidentialClients?: Array<
    Omit<ConfidentialClientRegistration, "certificatePem"> & {
      certificatePem?: string;
      certificateFile?: string;
    }
  >;
  managedIdentities?: Partial<ManagedIdentityInfo>[];
  caFile?: string;
}

/**
 * Parses `certbound-emulator` arguments (and the `--config` file they name) into options.
 *
 * @example
 * ```ts
 * const options = parseCliArgs(["--imds-port", "8080", "--client", "app=app.pem"]);
 * ```
 */
export function parseCliArgs(argv: readonly string[], cwd = process.cwd()): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: "string" },
      host: { type: "string" },
      "imds-port": { type: "string" },
      "authority-port": { type: "string" },
      "mtls-port": { type: "string" },
      "resource-port": { type: "string" },
      "sources-port": { type: "string" },
      "service-fabric-port": { type: "string" },
      "tenant-id": { type: "string" },
      "token-lifetime": { type: "string" },
      "certificate-lifetime": { type: "string" },
      "imds-v1-only": { type: "boolean" },
      "require-attestation": { type: "boolean" },
      location: { type: "string" },
      "pop-only": { type: "boolean" },
      audience: { type: "string", multiple: true },
      "arc-token-folder": { type: "string" },
      "arc-legacy-agent": { type: "boolean" },
      "reject-replayed-assertions": { type: "boolean" },
      client: { type: "string", multiple: true },
      "managed-identity": { type: "string", multiple: true },
      "ca-file": { type: "string" },
      "no-inspector": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });

  let config: ConfigFile = {};
  let configDir = cwd;
  if (values.config) {
    const path = resolve(cwd, values.config);
    configDir = dirname(path);
    try {
      config = JSON.parse(readFileSync(path, "utf8")) as ConfigFile;
    } catch (cause) {
      throw invalidOptions(PKG, `could not read the config file ${path}: ${(cause as Error).message}`);
    }
  }

  const { confidentialClients = [], managedIdentities = [], caFile: configCaFile, ...fromConfig } = config;
  const emulator: EmulatorOptions = { ...fromConfig, ports: { ...(fromConfig.ports ?? {}) } };
  const ports = emulator.ports as NonNullable<EmulatorOptions["ports"]>;
  const portFlags = {
    imds: values["imds-port"],
    authority: values["authority-port"],
    mtls: values["mtls-port"],
    resource: values["resource-port"],
    managedIdentitySources: values["sources-port"],
    serviceFabric: values["service-fabric-port"],
  };
  for (const [name, value] of Object.entries(portFlags)) {
    if (value !== undefined) ports[name as keyof typeof portFlags] = integer(value, `--${name} port`);
  }
  if (values.host) emulator.host = values.host;
  if (values["tenant-id"]) emulator.tenantId = values["tenant-id"];
  if (values["token-lifetime"])
    emulator.tokenLifetimeSeconds = integer(values["token-lifetime"], "--token-lifetime");
  if (values["certificate-lifetime"]) {
    emulator.issuedCertificateLifetimeSeconds = integer(
      values["certificate-lifetime"],
      "--certificate-lifetime",
    );
  }
  if (values["imds-v1-only"]) emulator.imdsV2 = false;
  if (values["require-attestation"]) emulator.requireAttestation = true;
  if (values.location) emulator.location = values.location;
  if (values["pop-only"]) emulator.resourceAcceptsBearer = false;
  if (values.audience?.length) emulator.resourceAudiences = values.audience;
  if (values["arc-token-folder"]) {
    const folder = values["arc-token-folder"];
    emulator.arcTokenFolder = folder === "temporary" ? folder : resolve(cwd, folder);
  }
  if (values["arc-legacy-agent"]) emulator.azureArcAgent = "legacy";
  if (values["reject-replayed-assertions"]) emulator.rejectReplayedAssertions = true;
  // The command line is where a person watches: the inspector is on unless asked off.
  emulator.inspector = values["no-inspector"] ? false : (emulator.inspector ?? true);

  const clients: ConfidentialClientRegistration[] = confidentialClients.map((c) => {
    const { certificateFile, certificatePem, ...rest } = c;
    const pem =
      certificatePem ?? (certificateFile ? readText(resolve(configDir, certificateFile)) : undefined);
    if (!pem)
      throw invalidOptions(
        PKG,
        `confidential client "${c.clientId}" needs certificateFile or certificatePem.`,
      );
    return { ...rest, certificatePem: pem };
  });
  for (const flag of values.client ?? []) {
    const at = flag.indexOf("=");
    if (at <= 0 || at === flag.length - 1) {
      throw invalidOptions(PKG, `--client takes <clientId>=<certificate.pem>, got "${flag}".`);
    }
    clients.push({ clientId: flag.slice(0, at), certificatePem: readText(resolve(cwd, flag.slice(at + 1))) });
  }
  const identities = [...managedIdentities];
  for (const id of values["managed-identity"] ?? []) identities.push(id === "new" ? {} : { clientId: id });

  const chosenCaFile = values["ca-file"] ?? configCaFile;
  return {
    help: values.help ?? false,
    version: values.version ?? false,
    json: values.json ?? false,
    caFile: chosenCaFile
      ? resolve(cwd, chosenCaFile)
      : join(tmpdir(), `certbound-emulator-ca-${process.pid}.pem`),
    caFileIsTemporary: !chosenCaFile,
    emulator,
    clients,
    managedIdentities: identities,
  };
}

function integer(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw invalidOptions(PKG, `${what} must be a whole number, got "${text}".`);
  return Number(text);
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    throw invalidOptions(PKG, `could not read ${path}: ${(cause as Error).message}`);
  }
}
