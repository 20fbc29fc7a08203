// End to end: a real Azure SDK client (@azure/keyvault-secrets' SecretClient, with Key Vault's
// challenge-based authentication policy) reads secrets from the emulator's Key Vault surface over
// real mutual TLS on 127.0.0.1, with mTLS PoP tokens from a real confidential client.
// The emulator's CA is trusted in process through the client's `tlsOptions.ca`, which the SDK's
// Node HTTP client passes to its https agents (child-process trust through NODE_EXTRA_CA_CERTS is
// not needed).

import { randomUUID } from "node:crypto";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { SecretClient } from "@azure/keyvault-secrets";
import { CertboundError, type Credential } from "@certbound/core";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/core/credential-kit";
import { type ConfidentialClient, createConfidentialClient } from "@certbound/credential-cert";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { createUndiciTransport, type UndiciTransport } from "@certbound/http-undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  certboundClientOptions,
  createBindingCertificatePolicy,
  createCertboundTokenCredential,
} from "../src/index";

const VAULT_SCOPE = "https://vault.azure.net/.default";
const ca = createCertificateAuthority({ commonName: "azure adapter app CA" });
let emu: Emulator;
let transport: UndiciTransport;
const apps: ConfidentialClient[] = [];

beforeAll(async () => {
  emu = await startEmulator();
  transport = createUndiciTransport({ ca: emu.caCertificatePem });
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await transport?.close();
  await emu?.close();
});
beforeEach(() => {
  emu.resetStats();
  emu.clearFaults();
});

/** A confidential client whose certificate is read on every PoP call (`current` rotates it). */
function confidentialClient(...certificates: IssuedCertificate[]) {
  const clientId = randomUUID();
  for (const c of certificates)
    emu.registerConfidentialClient({ clientId, certificatePem: c.certificatePem });
  const state = { current: certificates[0] as IssuedCertificate };
  const app = createConfidentialClient({
    clientId,
    authority: `${emu.authorityHost}/${emu.tenantId}`,
    authorityHost: emu.authorityHost,
    mtlsAuthorityHost: emu.mtlsAuthorityHost,
    ca: emu.caCertificatePem,
    transport,
    env: {},
    certificate: () => ({
      certificatePem: state.current.certificatePem,
      privateKey: state.current.privateKey,
    }),
  });
  apps.push(app);
  return { app, state };
}

/** A SecretClient for the emulator's vault: its CA trusted, and the challenge names vault.azure.net. */
function secretClient(
  credential: ReturnType<typeof certboundClientOptions>["credential"],
  options: Record<string, unknown> = {},
) {
  return new SecretClient(emu.resourceUrl, credential, {
    tlsOptions: { ca: emu.caCertificatePem },
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
    ...options,
  });
}

const vaultRequests = () => emu.stats().recent.filter((r) => r.endpoint === "resource");

describe("SecretClient with certboundClientOptions", () => {
  it("reads a secret with an mTLS PoP token and its binding certificate, one TLS handshake per certificate", async () => {
    const cert = ca.issue({ commonName: "vault-reader" });
    const { app } = confidentialClient(cert);
    const stored = emu.setKeyVaultSecret({ name: "db-password", value: "s3cret", contentType: "text/plain" });

    const azure = certboundClientOptions({ credential: app, tenantId: emu.tenantId });
    const client = secretClient(azure.credential, { ...azure });
    const secret = await client.getSecret("db-password");

    expect(secret.value).toBe("s3cret");
    expect(secret.properties.version).toBe(stored.version);
    expect(secret.properties.contentType).toBe("text/plain");
    // Key Vault's dance: the first request goes without a token (and without a certificate), the
    // 401 challenge names the tenant and the resource, the retry carries the PoP token over mTLS.
    const [first, second] = vaultRequests();
    expect(first?.headers.authorization).toBeUndefined();
    expect(first?.clientCertificateX5tS256).toBeUndefined();
    expect(second?.headers.authorization).toBeDefined();
    expect(second?.clientCertificateX5tS256).toBe(cert.x5tS256);
    expect(emu.stats().requests.mtlsToken).toBe(1);

    for (let i = 0; i < 10; i++) expect((await client.getSecret("db-password")).value).toBe("s3cret");
    expect((await client.getSecret("db-password", { version: stored.version })).value).toBe("s3cret");
    // One object per certificate lets the SDK reuse its keep-alive agent: the challenge's
    // connection (no certificate) and one mTLS connection, whatever the number of calls.
    expect(emu.stats().handshakes.resource).toBe(2);
    expect(emu.stats().requests.mtlsToken).toBe(1);
    expect(
      vaultRequests().every(
        (r) => r.headers.authorization === undefined || r.clientCertificateX5tS256 === cert.x5tS256,
      ),
    ).toBe(true);
  });

  it("follows a binding-certificate rotation: a CAE claims challenge gets a token for the new certificate, presented at once", async () => {
    const before = ca.issue({ commonName: "rotating-before" });
    const after = ca.issue({ commonName: "rotating-after" });
    const { app, state } = confidentialClient(before, after);
    emu.setKeyVaultSecret({ name: "rotating", value: "v1" });
    const azure = certboundClientOptions({ credential: app });
    const client = secretClient(azure.credential, { ...azure });
    expect((await client.getSecret("rotating")).value).toBe("v1");

    // The certificate rotates; Key Vault revokes the session with a CAE challenge.
    state.current = after;
    const claims = JSON.stringify({ access_token: { nbf: { essential: true, value: "1700000000" } } });
    emu.injectFault("resource", {
      status: 401,
      headers: {
        "www-authenticate": `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${Buffer.from(claims).toString("base64")}"`,
      },
      body: JSON.stringify({ error: { code: "Unauthorized", message: "Token revoked." } }),
    });
    expect((await client.getSecret("rotating")).value).toBe("v1");
    for (let i = 0; i < 5; i++) expect((await client.getSecret("rotating")).value).toBe("v1");

    const tokenRequests = emu.stats().recent.filter((r) => r.endpoint === "mtlsToken");
    expect(tokenRequests).toHaveLength(2);
    expect(tokenRequests[1]?.form?.claims).toBe(claims);
    expect(tokenRequests[1]?.clientCertificateX5tS256).toBe(after.x5tS256);
    const authorized = vaultRequests().filter((r) => r.headers.authorization !== undefined);
    expect(authorized.map((r) => r.clientCertificateX5tS256)).toEqual([
      before.x5tS256,
      before.x5tS256, // the request the CAE challenge answered
      ...Array(6).fill(after.x5tS256),
    ]);
    // challenge (no certificate) + old certificate + new certificate
    expect(emu.stats().handshakes.resource).toBe(3);
  });
});

describe("when the certificate the resource sees does not match the token", () => {
  it("without the policy the vault answers certificate_mismatch (no certificate was presented)", async () => {
    const cert = ca.issue({ commonName: "no-policy" });
    const { app } = confidentialClient(cert);
    emu.setKeyVaultSecret({ name: "no-policy", value: "x" });
    const client = secretClient(createCertboundTokenCredential({ credential: app }));
    const error = await client.getSecret("no-policy").then(
      () => undefined,
      (e: unknown) => e as { statusCode?: number; message: string },
    );
    expect(error?.statusCode).toBe(401);
    expect(error?.message).toContain("certificate_mismatch");
    expect(vaultRequests().at(-1)?.clientCertificateX5tS256).toBeUndefined();
  });

  it("a token from another credential than the policy's: binding_certificate_missing, saying so", async () => {
    const cert = ca.issue({ commonName: "other-credential" });
    const { app } = confidentialClient(cert);
    emu.setKeyVaultSecret({ name: "other-credential", value: "x" });
    const azure = certboundClientOptions({ credential: app });
    // The client authenticates with a second adapter: the policy never saw its tokens.
    const client = secretClient(createCertboundTokenCredential({ credential: app }), {
      additionalPolicies: azure.additionalPolicies,
    });
    const error = await client.getSecret("other-credential").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CertboundError);
    expect((error as CertboundError).code).toBe("binding_certificate_missing");
    expect((error as Error).message).toContain("invalid_token: certificate_mismatch");
    expect((error as Error).message).toContain("did not come from the credential this policy was made with");
    expect((error as Error).message).toContain(cert.x5tS256);
  });

  it("a credential that returns another certificate than the token's: refused before the token is sent", async () => {
    const cert = ca.issue({ commonName: "bound" });
    const other = ca.issue({ commonName: "other" });
    const { app } = confidentialClient(cert);
    emu.setKeyVaultSecret({ name: "lying-credential", value: "x" });
    // A buggy credential: the right token, the wrong certificate beside it. The token's cnf says
    // which certificate it is bound to, so the adapter never lets the pair reach the vault.
    const lying: Credential = {
      async getToken(scopes, options) {
        const result = await app.getToken(scopes, options);
        return {
          ...result,
          bindingCertificate: {
            certificatePem: other.certificatePem,
            privateKey: other.privateKey,
            x5tS256: other.x5tS256,
            notAfter: other.notAfter,
          },
        };
      },
    };
    const azure = certboundClientOptions({ credential: lying });
    const error = await secretClient(azure.credential, { ...azure })
      .getSecret("lying-credential")
      .catch((e: unknown) => e);
    expect((error as CertboundError).code).toBe("pop_validation_failed");
    expect(vaultRequests().filter((r) => r.headers.authorization !== undefined)).toHaveLength(0);
  });

  it("a policy after ours that swaps the certificate: binding_certificate_mismatch naming what went", async () => {
    const cert = ca.issue({ commonName: "swapped" });
    const other = ca.issue({ commonName: "swapper" });
    const { app } = confidentialClient(cert);
    emu.setKeyVaultSecret({ name: "swapped", value: "x" });
    const azure = certboundClientOptions({ credential: app });
    const swapper: PipelinePolicy = {
      name: "swapper",
      sendRequest(request, next) {
        if (request.tlsSettings?.cert) {
          request.tlsSettings = {
            ca: emu.caCertificatePem,
            cert: other.certificatePem,
            key: other.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
          };
        }
        return next(request);
      },
    };
    const client = secretClient(azure.credential, {
      additionalPolicies: [...azure.additionalPolicies, { policy: swapper, position: "perRetry" }],
    });
    const error = await client.getSecret("swapped").catch((e: unknown) => e);
    expect((error as CertboundError).code).toBe("binding_certificate_mismatch");
    expect((error as Error).message).toContain(`the request went with x5t#S256 ${other.x5tS256}`);
    expect((error as Error).message).toContain("a policy after this one replaced request.tlsSettings");
  });

  it("a client-level agent would drop the certificate: refused before the token is sent", async () => {
    const cert = ca.issue({ commonName: "agent" });
    const { app } = confidentialClient(cert);
    emu.setKeyVaultSecret({ name: "agent", value: "x" });
    const azure = certboundClientOptions({ credential: app });
    const { Agent } = await import("node:https");
    const agent = new Agent({ ca: emu.caCertificatePem });
    try {
      const error = await secretClient(azure.credential, { ...azure, agent })
        .getSecret("agent")
        .catch((e: unknown) => e);
      expect((error as CertboundError).code).toBe("binding_certificate_missing");
      expect((error as Error).message).toContain("Remove the `agent` option");
      // Only the challenge-seeking request (no token) reached the vault.
      expect(vaultRequests().filter((r) => r.headers.authorization !== undefined)).toHaveLength(0);
    } finally {
      agent.destroy();
    }
  });
});

describe("what the SDK passes to getToken", () => {
  it("a challenge for another tenant than the credential's is refused before any token request", async () => {
    const cert = ca.issue({ commonName: "tenant" });
    const { app } = confidentialClient(cert);
    emu.setKeyVaultSecret({ name: "tenant", value: "x" });
    const azure = certboundClientOptions({ credential: app, tenantId: "another-tenant" });
    const error = await secretClient(azure.credential, { ...azure })
      .getSecret("tenant")
      .catch((e: unknown) => e);
    expect((error as CertboundError).code).toBe("invalid_options");
    expect((error as Error).message).toContain(`tenant "${emu.tenantId}"`);
    expect((error as Error).message).toContain('tenant "another-tenant"');
    expect(emu.stats().requests.mtlsToken).toBe(0);
  });

  it("the call's abortSignal ends a hung token request", async () => {
    const cert = ca.issue({ commonName: "abort" });
    const { app } = confidentialClient(cert);
    emu.setKeyVaultSecret({ name: "abort", value: "x" });
    emu.injectFault("mtlsToken", { hang: true });
    const azure = certboundClientOptions({ credential: app });
    const controller = new AbortController();
    const pending = secretClient(azure.credential, { ...azure })
      .getSecret("abort", { abortSignal: controller.signal })
      .catch((e: unknown) => e);
    await expect.poll(() => emu.stats().requests.mtlsToken).toBe(1);
    controller.abort();
    const error = (await pending) as Error & { code?: string };
    expect(error.name === "AbortError" || error.code === "aborted").toBe(true);
  });

  it("a Bearer adapter (mtlsProofOfPossession: false) reads the secret without a client certificate", async () => {
    const cert = ca.issue({ commonName: "bearer", keyType: "rsa" });
    const { app } = confidentialClient(cert);
    emu.setKeyVaultSecret({ name: "bearer", value: "plain" });
    const azure = certboundClientOptions({ credential: app, mtlsProofOfPossession: false });
    expect((await secretClient(azure.credential, { ...azure }).getSecret("bearer")).value).toBe("plain");
    expect(emu.stats().requests.token).toBe(1);
    expect(emu.stats().requests.mtlsToken).toBe(0);
    expect(vaultRequests().every((r) => r.clientCertificateX5tS256 === undefined)).toBe(true);
  });
});

it("scopes come from the challenge: the vault's resource + /.default", async () => {
  const cert = ca.issue({ commonName: "scope" });
  const { app } = confidentialClient(cert);
  emu.setKeyVaultSecret({ name: "scope", value: "x" });
  const seen: string[][] = [];
  const recording: Credential = {
    getToken(scopes, options) {
      seen.push([...scopes]);
      return app.getToken(scopes, options);
    },
  };
  const azure = certboundClientOptions({ credential: recording });
  await secretClient(azure.credential, { ...azure }).getSecret("scope");
  expect(seen).toEqual([[VAULT_SCOPE]]);
  const bound = createBindingCertificatePolicy({ credential: azure.credential });
  expect(bound.name).toBe("certboundBindingCertificatePolicy");
});
