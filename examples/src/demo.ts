// The README's first command: starts the emulator in-process (Entra ID + IMDS + a protected
// resource, all real TLS on 127.0.0.1), runs the managed-identity and confidential-client vanilla
// flows, and prints what happened. Exits 0 only if every check passed.
import { X509Certificate } from "node:crypto";
import { isCertboundError, MtlsPopTokenAcquirer, ResourceCaller, type TokenResult } from "@certbound/core";
import {
  createCertificateAuthority,
  decodeJwtPayload,
  tokenBindingThumbprint,
} from "@certbound/core/credential-kit";
import { createConfidentialClient, mtlsTokenEndpoint } from "@certbound/credential-cert";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { createUndiciTransport } from "@certbound/http-undici";
import { ms, type Report, startReport } from "./demo-report";
import { type Exchange, recordExchanges, stepName } from "./demo-steps";

type Acquire = () => Promise<TokenResult>;

interface Recorder {
  take(): Exchange[];
}

/** Prints each HTTP exchange of one acquisition with its time, and the in-process work between them. */
function reportSteps(report: Report, emu: Emulator, startedMs: number, exchanges: readonly Exchange[]): void {
  const hosts = {
    imds: new URL(emu.imdsEndpoint).origin,
    mtls: new URL(emu.mtlsAuthorityHost).origin,
    authority: new URL(emu.authorityHost).origin,
  };
  report.fact("first call, step by step", `${exchanges.length} request(s) on the wire`);
  let n = 0;
  let previousEnd = startedMs;
  for (const exchange of exchanges) {
    const name = stepName(exchange, hosts);
    const gap = exchange.startedMs - previousEnd;
    // Key generation and the CSR happen in the process, between getplatformmetadata and issuecredential.
    if (gap >= 1) {
      const what = name.startsWith("IMDS issuecredential")
        ? "in-process: key pair and CSR (PKCS#10, signed by that key)"
        : "in-process";
      report.fact(`  ${++n}. ${ms(gap).padStart(10)}`, what);
    }
    const certificate = exchange.clientCertificate
      ? `, TLS client certificate x5t#S256 ${exchange.clientCertificate}`
      : "";
    report.fact(
      `  ${++n}. ${ms(exchange.endedMs - exchange.startedMs).padStart(10)}`,
      `${exchange.method} ${name} → ${exchange.outcome}${certificate}`,
    );
    previousEnd = exchange.endedMs;
  }
}

/** Prints the access token's claims (decoded, not verified), `cnf` included. */
function reportClaims(report: Report, accessToken: string): void {
  const claims = decodeJwtPayload(accessToken);
  if (!claims) {
    report.fact("token claims", "(not a JWT)");
    return;
  }
  report.fact("token claims", "(decoded here, not verified: the resource verifies them)");
  for (const [name, value] of Object.entries(claims)) {
    const text =
      typeof value === "number" && ["exp", "iat", "nbf"].includes(name)
        ? `${value} (${new Date(value * 1000).toISOString()})`
        : typeof value === "string"
          ? value
          : JSON.stringify(value);
    report.fact(`  ${name}`, text);
  }
}

/** Runs one vanilla flow and reports on it: checklist, cache, resource call, and one mistake. */
async function runFlow(
  report: Report,
  emu: Emulator,
  caller: ResourceCaller,
  recorder: Recorder,
  acquire: Acquire,
): Promise<void> {
  recorder.take();
  const t0 = performance.now();
  const first = await acquire();
  const t1 = performance.now();
  const firstSteps = recorder.take();
  const second = await acquire();
  const t2 = performance.now();
  const secondSteps = recorder.take();
  const binding = first.bindingCertificate;

  reportSteps(report, emu, t0, firstSteps);
  report.fact("token endpoint", first.metadata.tokenEndpoint ?? "(unknown)");
  report.fact("token type", first.tokenType);
  if (binding) {
    const x509 = new X509Certificate(binding.certificatePem);
    report.fact("binding certificate", `x5t#S256 ${binding.x5tS256}`);
    report.fact(
      "  subject, issuer",
      `${x509.subject.replaceAll("\n", ", ")}; issued by ${x509.issuer.replaceAll("\n", ", ")}`,
    );
    report.fact("  valid until", binding.notAfter.toISOString());
  } else {
    report.fact("binding certificate", "(none)");
  }
  report.fact("expires", first.expiresOn.toISOString());
  reportClaims(report, first.accessToken);
  report.check("token type is mtls_pop", first.tokenType === "mtls_pop");
  report.check(
    "binding certificate is present, with its private key",
    binding?.privateKey.type === "private",
  );
  report.check(
    "token cnf.x5t#S256 equals the binding certificate",
    binding !== undefined && tokenBindingThumbprint(first.accessToken) === binding.x5tS256,
  );
  report.fact("first call", `${first.metadata.tokenSource}, ${ms(t1 - t0)}`);
  report.fact(
    "second call",
    `${second.metadata.tokenSource}, ${ms(t2 - t1)}, ${secondSteps.length} request(s) on the wire`,
  );
  report.check("token comes from the cache on the second call", second.metadata.tokenSource === "cache");

  const response = await caller.call(first, `${emu.resourceUrl}/data`);
  const answer = JSON.parse(response.body) as {
    clientCertificateX5tS256?: string;
    tokenType?: string;
    [key: string]: unknown;
  };
  report.fact("resource answered", `${response.status}`);
  for (const [key, value] of Object.entries(answer)) report.fact(`  ${key}`, String(value));
  report.check(
    "resource saw the binding certificate in the TLS handshake",
    response.status === 200 && answer.clientCertificateX5tS256 === binding?.x5tS256,
  );

  // The most common mistake: calling the resource with some other certificate.
  const stranger = createCertificateAuthority({ commonName: "some other CA" }).issue({
    commonName: "not the binding cert",
  });
  try {
    await caller.call(first, `${emu.resourceUrl}/data`, { clientIdentity: stranger });
    report.check("calling with another certificate is refused", false, "the resource accepted it");
  } catch (error) {
    const code = isCertboundError(error) ? error.code : "untyped";
    report.fact("mistake: other cert", `${code}: ${(error as Error).message}`);
    report.check(
      "calling with another certificate is refused as binding_certificate_mismatch",
      code === "binding_certificate_mismatch",
    );
  }
}

async function main(): Promise<number> {
  const started = performance.now();
  const emu = await startEmulator();
  // The clients send through a recorder, so the demo can show each step and its time.
  const recorder = recordExchanges(createUndiciTransport({ ca: emu.caCertificatePem }));
  const { transport } = recorder;
  const caller = new ResourceCaller({ transport });
  const scope = `${emu.resourceUrl}/.default`;
  let failures = 0;
  console.log("certbound demo: mTLS Proof-of-Possession (RFC 8705) against the embedded emulator");
  console.log(`  Entra ID ${emu.authorityHost}, mTLS ${emu.mtlsAuthorityHost}, IMDS ${emu.imdsEndpoint}`);
  console.log(`  resource ${emu.resourceUrl}`);
  try {
    // Managed identity: IMDS v2 mints a certificate for an in-process key, then the token is
    // requested over mutual TLS with it.
    const msiReport = startReport("1. Managed identity (IMDS v2, system-assigned)");
    const msi = createManagedIdentityClient({
      transport,
      imdsEndpoint: emu.imdsEndpoint,
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
    });
    const msiAcquirer = new MtlsPopTokenAcquirer(msi);
    await runFlow(msiReport, emu, caller, recorder, () => msiAcquirer.acquireToken(scope));
    await msi.close();
    failures += msiReport.failures;

    // Confidential client: the app's own certificate authenticates it in the TLS handshake.
    const certReport = startReport("2. Confidential client with a certificate (region westus3)");
    const appCert = createCertificateAuthority({ commonName: "demo app CA" }).issue({
      commonName: "demo-app",
    });
    const clientId = "4f7c2a9e-1b3d-4c5e-8f6a-0b1c2d3e4f5a";
    emu.registerConfidentialClient({ clientId, certificatePem: appCert.certificatePem });
    const authority = `https://login.microsoftonline.com/${emu.tenantId}`;
    certReport.fact("in Azure this would be", mtlsTokenEndpoint({ authority, region: "westus3" }));
    const cca = createConfidentialClient({
      clientId,
      authority,
      certificate: { certificatePem: appCert.certificatePem, privateKeyPem: appCert.privateKeyPem },
      azureRegion: "westus3",
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      transport,
    });
    const ccaAcquirer = new MtlsPopTokenAcquirer(cca);
    await runFlow(certReport, emu, caller, recorder, () => ccaAcquirer.acquireToken(scope));
    certReport.check(
      "binding certificate is the app's own certificate",
      (await ccaAcquirer.acquireToken(scope)).bindingCertificate?.x5tS256 === appCert.x5tS256,
    );
    await cca.close();
    failures += certReport.failures;
  } catch (error) {
    failures++;
    const code = isCertboundError(error) ? error.code : "untyped";
    console.error(`\n  ✗ the flow failed: ${code}: ${(error as Error).message}`);
  } finally {
    await transport.close();
    await emu.close();
  }
  const stats = `${ms(performance.now() - started)} in all`;
  console.log(
    failures === 0 ? `\nAll checks passed (${stats}).` : `\n${failures} check(s) failed (${stats}).`,
  );
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main();
