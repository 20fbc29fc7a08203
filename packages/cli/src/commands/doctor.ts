import { X509Certificate } from "node:crypto";
import type { HttpTransport } from "@certbound/core";
import { loadCertificate, mtlsTokenEndpoint } from "@certbound/credential-cert";
import { createManagedIdentityClient, type ManagedIdentitySourceName } from "@certbound/credential-msi";
import { createUndiciTransport } from "@certbound/http-undici";
import type { Command } from "commander";
import { PUBLIC_AUTHORITY_HOST, readCertificateInput } from "../acquire";
import { CliError } from "../cli-error";
import { type CredentialOptions, DEFAULT_PASSPHRASE_ENV, readCaFiles } from "../credential-options";
import { EXIT_CODES, errorCode } from "../exit-codes";
import { fixFor } from "../fixes";
import { printable } from "../jwt-view";
import { proxyFindings } from "../proxy-check";
import { paint, type Terminal, withSpinner } from "../terminal";

/** One line of the checklist. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly fix?: string | undefined;
  readonly code?: string | undefined;
}

// Off Azure, IMDS never answers: these keep `doctor` to a few seconds there.
const IMDS_ATTEMPT_MS = 1_000;
const IMDS_BUDGET_MS = 2_000;
const CLOCK_BUDGET_MS = 2_000;
const POP_BUDGET_MS = 5_000;
/** Entra accepts client assertions and tokens within 5 minutes of its clock. */
const MAX_SKEW_SECONDS = 300;

const SOURCE_LABEL: Record<ManagedIdentitySourceName, string> = {
  imds: "IMDS (Azure VM or scale set)",
  appService: "App Service / Functions",
  serviceFabric: "Service Fabric",
  azureArc: "Azure Arc",
  cloudShell: "Cloud Shell",
  machineLearning: "Azure Machine Learning",
};
const SOURCE_VARIABLES = [
  "IDENTITY_ENDPOINT",
  "IDENTITY_HEADER",
  "IDENTITY_SERVER_THUMBPRINT",
  "IMDS_ENDPOINT",
  "MSI_ENDPOINT",
  "MSI_SECRET",
];

interface DoctorOptions extends CredentialOptions {
  json?: boolean;
}

const failure = (name: string, error: unknown, detail: string): Check => {
  const code = errorCode(error);
  return { name, ok: false, detail: `${detail} (${code})`, fix: fixFor(code), code };
};

/** Which managed-identity source this environment has, and for IMDS whether v2 (PoP) answers. */
async function managedIdentityChecks(
  options: DoctorOptions,
  transport: HttpTransport,
  ca: string[] | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Check[]> {
  const set = SOURCE_VARIABLES.filter((name) => (env[name] ?? "").trim() !== "");
  let msi: ReturnType<typeof createManagedIdentityClient>;
  try {
    msi = createManagedIdentityClient({
      transport,
      // With --certificate, --client-id is the app's id, not a user-assigned identity's.
      clientId: options.certificate === undefined ? options.clientId : undefined,
      objectId: options.objectId,
      resourceId: options.resourceId,
      imdsEndpoint: options.imdsEndpoint,
      mtlsAuthorityHost: options.mtlsAuthorityHost,
      ca,
      env,
      timeoutMs: IMDS_ATTEMPT_MS,
      acquisitionTimeoutMs: IMDS_BUDGET_MS,
    });
  } catch (error) {
    // A malformed IDENTITY_ENDPOINT or option: the client refuses it before any request.
    return [
      failure("managed-identity source", error, printable(String((error as Error).message).slice(0, 300))),
    ];
  }
  const imds = (
    options.imdsEndpoint ??
    env.AZURE_POD_IDENTITY_AUTHORITY_HOST ??
    "http://169.254.169.254"
  ).replace(/\/+$/, "");
  const checks: Check[] = [];
  try {
    let info: Awaited<ReturnType<typeof msi.getManagedIdentitySource>>;
    try {
      info = await msi.getManagedIdentitySource({ signal: AbortSignal.timeout(IMDS_BUDGET_MS + 500) });
    } catch (error) {
      checks.push({
        name: "managed-identity source",
        ok: true,
        detail: `${SOURCE_LABEL.imds}: none of ${SOURCE_VARIABLES.join(", ")} is set`,
      });
      const code = errorCode(error);
      const silent = ["network_error", "timeout", "aborted", "tls_handshake_failed"].includes(code);
      checks.push(
        silent
          ? {
              ...failure("IMDS v2", error, `no answer from ${imds} within ${IMDS_BUDGET_MS / 1000} s`),
              fix: "Off Azure this is expected: use a confidential client (--certificate) here. On an Azure VM, check that a managed identity is assigned and that nothing (a firewall, a proxy) blocks 169.254.169.254.",
            }
          : failure(
              "IMDS v2",
              error,
              `${imds} answered, but: ${printable(String((error as Error).message).slice(0, 300))}`,
            ),
      );
      return checks;
    }
    checks.push({
      name: "managed-identity source",
      ok: true,
      detail:
        info.source === "imds"
          ? `${SOURCE_LABEL.imds}${set.length ? ` (set: ${set.join(", ")})` : ""}`
          : `${SOURCE_LABEL[info.source]} (from ${set.join(", ")})`,
    });
    if (info.source !== "imds") {
      checks.push({
        name: "mTLS PoP",
        ok: false,
        detail: `${SOURCE_LABEL[info.source]} issues Bearer tokens only`,
        fix: "Use --bearer here, or run on an Azure VM or scale set whose IMDS v2 issues binding certificates.",
        code: "mtls_pop_not_supported_for_environment",
      });
      return checks;
    }
    if (!info.mtlsProofOfPossession) {
      checks.push({
        name: "IMDS v2",
        ok: false,
        detail: `${imds} answers IMDS v1 only (getplatformmetadata: 404)`,
        fix: fixFor("mtls_pop_token_not_supported_in_imds_v1"),
        code: "mtls_pop_token_not_supported_in_imds_v1",
      });
      return checks;
    }
    checks.push({
      name: "IMDS v2",
      ok: true,
      detail: `${imds} answers getplatformmetadata: mTLS PoP available`,
    });
    // Only a certificate request tells whether IMDS certifies keys without attestation.
    const resource = options.resource ?? "https://management.azure.com";
    try {
      const result = await msi.acquireToken({
        resource,
        mtlsProofOfPossession: true,
        signal: AbortSignal.timeout(POP_BUDGET_MS),
      });
      checks.push({
        name: "attestation",
        ok: true,
        detail: `IMDS issued a binding certificate without attestation (x5t#S256 ${result.bindingCertificate?.x5tS256}); a PoP token for ${resource} followed`,
      });
    } catch (error) {
      const code = errorCode(error);
      checks.push(
        code === "managed_identity_attestation_required"
          ? {
              name: "attestation",
              ok: false,
              detail: "IMDS demands an attestation token before it certifies a key",
              fix: fixFor(code),
              code,
            }
          : failure(
              "attestation",
              error,
              `a PoP token for ${resource} failed: ${printable(String((error as Error).message).slice(0, 300))}`,
            ),
      );
    }
    return checks;
  } finally {
    msi.close();
  }
}

function proxyCheck(env: Readonly<Record<string, string | undefined>>): Check {
  const { proxies, imdsExempt } = proxyFindings(env);
  if (proxies.length === 0) return { name: "proxies", ok: true, detail: "no proxy variable is set" };
  if (imdsExempt)
    return { name: "proxies", ok: true, detail: `${proxies.join(", ")}; NO_PROXY exempts 169.254.169.254` };
  return {
    name: "proxies",
    ok: false,
    detail: `${proxies.join(", ")} would catch IMDS for tools that honour them (certbound never proxies IMDS)`,
    fix: "Add 169.254.169.254 (and localhost,127.0.0.1) to NO_PROXY.",
  };
}

/** Clock skew against the identity provider's `Date` header (any status will do). */
async function clockCheck(
  transport: HttpTransport,
  ca: string[] | undefined,
  authorityHost: string,
): Promise<Check> {
  const url = `${authorityHost}/common/v2.0/.well-known/openid-configuration`;
  const before = Date.now();
  try {
    const response = await transport.send({
      method: "GET",
      url,
      headers: {},
      ca,
      timeoutMs: CLOCK_BUDGET_MS,
      signal: AbortSignal.timeout(CLOCK_BUDGET_MS + 500),
      proxy: "environment",
    });
    const after = Date.now();
    const date = Date.parse(response.headers.date ?? "");
    if (Number.isNaN(date)) {
      return {
        name: "clock",
        ok: false,
        detail: `${authorityHost} sent no usable Date header`,
        fix: "Check --authority-host points at the identity provider.",
      };
    }
    // Date has a resolution of one second: compare with the middle of the exchange.
    const skew = Math.round((date - (before + after) / 2) / 1000);
    const ok = Math.abs(skew) <= MAX_SKEW_SECONDS;
    return {
      name: "clock",
      ok,
      detail: `${Math.abs(skew)} s ${skew > 0 ? "behind" : "ahead of"} ${authorityHost} (±1 s)`,
      fix: ok
        ? undefined
        : "Synchronise this machine's clock (NTP): Entra refuses assertions and certificates more than 5 minutes off.",
    };
  } catch (error) {
    return failure("clock", error, `${authorityHost} did not answer within ${CLOCK_BUDGET_MS / 1000} s`);
  }
}

/** Key, validity, chain, thumbprints and the mTLS endpoint of a confidential client's certificate. */
function certificateChecks(
  options: DoctorOptions,
  env: Readonly<Record<string, string | undefined>>,
  authorityHost: string,
): Check[] {
  let loaded: ReturnType<typeof loadCertificate>;
  try {
    loaded = loadCertificate(readCertificateInput(options, env));
  } catch (error) {
    return [failure("certificate key", error, printable(String((error as Error).message).slice(0, 300)))];
  }
  const checks: Check[] = [
    { name: "certificate key", ok: true, detail: "the private key matches the certificate" },
  ];
  const leaf = loaded.chain[0] as X509Certificate;
  const now = Date.now();
  const notBefore = Date.parse(leaf.validFrom);
  const notAfter = Date.parse(leaf.validTo);
  const days = Math.floor((notAfter - now) / 86_400_000);
  if (now < notBefore) {
    checks.push({
      name: "validity",
      ok: false,
      detail: `not valid before ${new Date(notBefore).toISOString()}`,
      fix: fixFor("certificate_not_yet_valid"),
      code: "certificate_not_yet_valid",
    });
  } else if (now > notAfter) {
    checks.push({
      name: "validity",
      ok: false,
      detail: `expired on ${new Date(notAfter).toISOString()}`,
      fix: fixFor("certificate_expired"),
      code: "certificate_expired",
    });
  } else {
    checks.push({
      name: "validity",
      ok: true,
      detail: `valid until ${new Date(notAfter).toISOString()} (${days} days left)`,
    });
  }
  checks.push(chainCheck(loaded.chain, readCaFiles(options.ca)));
  checks.push({
    name: "thumbprints",
    ok: true,
    detail: `SHA-1 ${loaded.thumbprintSha1}, x5t#S256 ${loaded.binding.x5tS256}: compare with Certificates & secrets of app ${options.clientId ?? "<client id>"} in the Entra portal`,
  });
  // Without --tenant the endpoint is shown with a placeholder (it must parse as an authority).
  const placeholder = "00000000-0000-0000-0000-000000000000";
  const tenant = options.tenant ?? placeholder;
  try {
    const endpoint = options.mtlsAuthorityHost
      ? `${options.mtlsAuthorityHost.replace(/\/+$/, "")}/${tenant}/oauth2/v2.0/token`
      : mtlsTokenEndpoint({
          authority: `${authorityHost}/${tenant}`,
          region: options.region ?? env.MSAL_FORCE_REGION,
        });
    checks.push({
      name: "mTLS endpoint",
      ok: true,
      detail: `PoP token requests would go to ${endpoint.replace(placeholder, "<tenant>")}`,
    });
  } catch (error) {
    checks.push(failure("mTLS endpoint", error, printable(String((error as Error).message).slice(0, 300))));
  }
  return checks;
}

function chainCheck(chain: readonly X509Certificate[], extraCa: string[] | undefined): Check {
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i] as X509Certificate;
    const parent = chain[i + 1] as X509Certificate;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      return {
        name: "chain",
        ok: false,
        detail: `certificate ${i + 1} of ${chain.length} is not signed by the next one`,
        fix: "Put the chain in order, leaf first, each certificate followed by its issuer.",
        code: "invalid_certificate",
      };
    }
  }
  const top = chain[chain.length - 1] as X509Certificate;
  const count = `${chain.length} certificate${chain.length === 1 ? "" : "s"}`;
  if (top.checkIssued(top) && top.verify(top.publicKey))
    return { name: "chain", ok: true, detail: `${count}, ending at a self-signed certificate` };
  const anchors = (extraCa ?? [])
    .flatMap((pem) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
    .map((pem) => new X509Certificate(pem));
  const anchor = anchors.find((ca) => top.checkIssued(ca) && top.verify(ca.publicKey));
  return {
    name: "chain",
    ok: true,
    detail: anchor
      ? `${count}, issued by ${anchor.subject.replaceAll("\n", ", ")} (a --ca certificate)`
      : `${count}, issued by ${top.issuer.replaceAll("\n", ", ")} (not included: fine for a certificate registered by thumbprint; subject name/issuer authentication needs the chain)`,
  };
}

export function registerDoctor(program: Command, terminal: Terminal, setExit: (code: number) => void): void {
  const command = program
    .command("doctor")
    .description(
      "check this environment for mTLS PoP: managed identity, IMDS v2, proxies, clock, and a certificate",
    )
    .option("--certificate <file>", "also check this certificate (PEM or PFX) for a confidential client")
    .option("--key <file>", "the private key (PEM) when it is not in --certificate")
    .option("--passphrase-env <name>", "environment variable holding the passphrase", DEFAULT_PASSPHRASE_ENV)
    .option("--tenant <id>", "the tenant, for the mTLS endpoint shown")
    .option(
      "--client-id <id>",
      "a user-assigned managed identity's client id (or the app id, shown with --certificate)",
    )
    .option("--object-id <id>", "a user-assigned managed identity's object id")
    .option("--resource-id <id>", "a user-assigned managed identity's resource id")
    .option(
      "--resource <uri>",
      "the resource of the test PoP token on IMDS v2",
      "https://management.azure.com",
    )
    .option("--region <name>", "Azure region of the regional mTLS endpoint")
    .option(
      "--authority-host <url>",
      "private clouds and emulators only: the Entra host whose clock is compared",
    )
    .option("--mtls-authority-host <url>", "private clouds and emulators only: the mTLS token host")
    .option("--imds-endpoint <url>", "emulators and tests only: the IMDS base URL")
    .option(
      "--ca <file>",
      "extra trusted CA certificate (PEM); repeatable",
      (v: string, p: string[] | undefined) => [...(p ?? []), v],
    )
    .option("--json", "print { ok, checks, elapsedMs } as JSON");
  command.action(async (options: DoctorOptions) => {
    const started = Date.now();
    const env = terminal.env;
    if (options.certificate === undefined && options.key !== undefined)
      throw new CliError("usage", "--key needs --certificate.");
    const ca = readCaFiles(options.ca);
    const authorityHost = (options.authorityHost ?? PUBLIC_AUTHORITY_HOST).replace(/\/+$/, "");
    const transport = createUndiciTransport(ca ? { ca } : {});
    let checks: Check[];
    try {
      const [mi, clock] = await withSpinner(terminal, "checking managed identity, IMDS and the clock", () =>
        Promise.all([
          managedIdentityChecks(options, transport, ca, env),
          clockCheck(transport, ca, authorityHost),
        ]),
      );
      checks = [
        ...mi,
        proxyCheck(env),
        clock,
        ...(options.certificate !== undefined ? certificateChecks(options, env, authorityHost) : []),
      ];
    } finally {
      await transport.close?.();
    }
    const elapsedMs = Date.now() - started;
    const failed = checks.filter((c) => !c.ok).length;
    if (options.json) {
      terminal.out(`${JSON.stringify({ ok: failed === 0, checks, elapsedMs }, null, 2)}\n`);
    } else {
      const c = paint(terminal);
      const width = Math.max(...checks.map((check) => check.name.length));
      const lines = checks.flatMap((check) => [
        `${check.ok ? c.green("✓") : c.red("✗")} ${check.name.padEnd(width)}  ${check.detail}`,
        ...(check.fix ? [`  ${" ".repeat(width)}  ${c.yellow("fix:")} ${check.fix}`] : []),
      ]);
      lines.push(
        "",
        failed === 0
          ? `${c.green("All")} ${checks.length} checks passed in ${elapsedMs} ms.`
          : `${failed} of ${checks.length} checks failed (${elapsedMs} ms).`,
      );
      terminal.out(`${lines.join("\n")}\n`);
    }
    if (failed > 0) setExit(EXIT_CODES.doctorFailed);
  });
}
