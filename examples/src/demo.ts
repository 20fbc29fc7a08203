// The README's first command: starts the emulator in-process (Entra ID + IMDS + a protected
// resource, all real TLS on 127.0.0.1), runs the managed-identity and confidential-client vanilla
// flows, and prints what happened. Exits 0 only if every check passed.
import {
  createCertificateAuthority,
  isCertboundError,
  MtlsPopTokenAcquirer,
  ResourceCaller,
  type TokenResult,
  tokenBindingThumbprint,
} from "@certbound/core";
import { createConfidentialClient, mtlsTokenEndpoint } from "@certbound/credential-cert";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { createUndiciTransport } from "@certbound/http-undici";
import { ms, type Report, short, startReport } from "./demo-report";

type Acquire = () => Promise<TokenResult>;

/** Runs one vanilla flow and reports on it: checklist, cache, resource call, and one mistake. */
async function runFlow(
  report: Report,
  emu: Emulator,
  caller: ResourceCaller,
  acquire: Acquire,
): Promise<void> {
  const t0 = performance.now();
  const first = await acquire();
  const t1 = performance.now();
  const second = await acquire();
  const t2 = performance.now();
  const binding = first.bindingCertificate;

  report.fact("token endpoint", first.metadata.tokenEndpoint ?? "(unknown)");
  report.fact("token type", first.tokenType);
  report.fact("binding certificate", binding ? `x5t#S256 ${binding.x5tS256}` : "(none)");
  report.fact("expires", first.expiresOn.toISOString());
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
  report.fact("second call", `${second.metadata.tokenSource}, ${ms(t2 - t1)}`);
  report.check("token comes from the cache on the second call", second.metadata.tokenSource === "cache");

  const response = await caller.call(first, `${emu.resourceUrl}/data`);
  const answer = JSON.parse(response.body) as { clientCertificateX5tS256?: string; tokenType?: string };
  report.fact("resource answered", `${response.status} ${short(response.body)}`);
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
    report.fact("mistake: other cert", short(`${code}: ${(error as Error).message}`, 160));
    report.check(
      "calling with another certificate is refused as binding_certificate_mismatch",
      code === "binding_certificate_mismatch",
    );
  }
}

async function main(): Promise<number> {
  const started = performance.now();
  const emu = await startEmulator();
  const transport = createUndiciTransport({ ca: emu.caCertificatePem });
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
    await runFlow(msiReport, emu, caller, () => msiAcquirer.acquireToken(scope));
    msi.close();
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
      certificate: { certificatePem: appCert.certificatePem, privateKeyPem: appCert.keyPem },
      azureRegion: "westus3",
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      transport,
    });
    const ccaAcquirer = new MtlsPopTokenAcquirer(cca);
    await runFlow(certReport, emu, caller, () => ccaAcquirer.acquireToken(scope));
    certReport.check(
      "binding certificate is the app's own certificate",
      (await ccaAcquirer.acquireToken(scope)).bindingCertificate?.x5tS256 === appCert.x5tS256,
    );
    cca.close();
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
