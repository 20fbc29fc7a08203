// The TokenCredential adapter on its own: what it passes to the certbound credential and what it
// hands back to the SDK. The certbound credential here is the seam itself (core's Credential),
// recording its calls and answering with results built from real certificates; the end-to-end
// behaviour against the emulator is in secret-client.e2e.test.ts.

import { CertboundError, type Credential, type GetTokenOptions, type TokenResult } from "@certbound/core";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { describe, expect, it } from "vitest";
import { createCertboundTokenCredential } from "../src/index";

const ca = createCertificateAuthority({ commonName: "adapter unit CA" });
const cert = ca.issue({ commonName: "unit" });
const binding = {
  certificatePem: cert.certificatePem,
  privateKey: cert.privateKey,
  x5tS256: cert.x5tS256,
  notAfter: cert.notAfter,
};
const jwt = (payload: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.sig`;

function recordingCredential(
  answer: (scopes: readonly string[], o?: GetTokenOptions) => Partial<TokenResult> = () => ({}),
) {
  const calls: { scopes: readonly string[]; options: GetTokenOptions | undefined }[] = [];
  const credential: Credential = {
    async getToken(scopes, options) {
      calls.push({ scopes, options });
      return {
        accessToken: jwt({ cnf: { "x5t#S256": cert.x5tS256 }, n: calls.length }),
        tokenType: "mtls_pop",
        expiresOn: new Date(2_000_000_000_000),
        refreshOn: new Date(1_999_000_000_000),
        scopes,
        bindingCertificate: binding,
        metadata: { tokenSource: "identity_provider", correlationId: "c", durationMs: 0 },
        ...answer(scopes, options),
      };
    },
  };
  return { credential, calls };
}

describe("createCertboundTokenCredential", () => {
  it("asks for an mTLS PoP token for the SDK's scopes and answers with an AccessToken the SDK sends as Bearer", async () => {
    const { credential, calls } = recordingCredential();
    const adapter = createCertboundTokenCredential({ credential });
    const token = await adapter.getToken("https://vault.azure.net/.default");
    expect(calls[0]?.scopes).toEqual(["https://vault.azure.net/.default"]);
    expect(calls[0]?.options?.mtlsProofOfPossession).toBe(true);
    expect(token).toEqual({
      token: expect.any(String),
      expiresOnTimestamp: 2_000_000_000_000,
      refreshAfterTimestamp: 1_999_000_000_000,
      tokenType: "Bearer",
    });
    expect(adapter.tokenResultFor(token.token)?.bindingCertificate?.x5tS256).toBe(cert.x5tS256);
    expect(adapter.tokenResultFor("another token")).toBeUndefined();
  });

  it("passes claims through (the credential then skips its cache) and an array of scopes as given", async () => {
    const { credential, calls } = recordingCredential();
    const adapter = createCertboundTokenCredential({ credential });
    await adapter.getToken(["a/.default", "b"], { claims: '{"access_token":{}}', enableCae: true });
    expect(calls[0]?.scopes).toEqual(["a/.default", "b"]);
    expect(calls[0]?.options?.claims).toBe('{"access_token":{}}');
  });

  it("refuses empty scopes and signed-HTTP-request PoP", async () => {
    const { credential, calls } = recordingCredential();
    const adapter = createCertboundTokenCredential({ credential });
    await expect(adapter.getToken([])).rejects.toMatchObject({ code: "invalid_options" });
    await expect(adapter.getToken(" ")).rejects.toMatchObject({ code: "invalid_options" });
    await expect(
      adapter.getToken("s", {
        proofOfPossessionOptions: {
          nonce: "n",
          resourceRequestMethod: "GET",
          resourceRequestUrl: "https://x",
        },
      }),
    ).rejects.toThrow(/signed-HTTP-request PoP/);
    expect(calls).toHaveLength(0);
  });

  it("bridges the SDK's AbortSignalLike to an AbortSignal that aborts with it, and lets go of it afterwards", async () => {
    let seen: AbortSignal | undefined;
    const listeners = new Set<(ev: unknown) => void>();
    const like = {
      aborted: false,
      addEventListener: (_: "abort", l: (ev: unknown) => void) => {
        listeners.add(l);
      },
      removeEventListener: (_: "abort", l: (ev: unknown) => void) => {
        listeners.delete(l);
      },
    };
    const credential: Credential = {
      getToken: (_scopes, options) =>
        new Promise((_resolve, reject) => {
          seen = options?.signal;
          options?.signal?.addEventListener("abort", () => reject(new CertboundError("aborted", "aborted")));
        }),
    };
    const pending = createCertboundTokenCredential({ credential }).getToken("s", { abortSignal: like });
    expect(seen).toBeInstanceOf(AbortSignal);
    expect(listeners.size).toBe(1);
    like.aborted = true;
    for (const l of listeners) l({});
    await expect(pending).rejects.toMatchObject({ code: "aborted" });
    expect(listeners.size).toBe(0);
  });

  // Follows @azure/identity src/util/processMultiTenantRequest.ts: a credential asked for a tenant
  // it is not configured for refuses (CredentialUnavailableError there) instead of getting a token
  // the resource will reject. A certbound credential cannot switch tenants (its authority is fixed),
  // so there is no additionallyAllowedTenants.
  it("a tenant other than the configured one is refused before the credential is asked; the same tenant (any case) passes", async () => {
    const { credential, calls } = recordingCredential();
    const adapter = createCertboundTokenCredential({ credential, tenantId: "Contoso-Tenant" });
    await expect(adapter.getToken("s", { tenantId: "fabrikam" })).rejects.toThrow(
      /tenant "fabrikam".*tenant "Contoso-Tenant"/,
    );
    expect(calls).toHaveLength(0);
    await adapter.getToken("s", { tenantId: "contoso-tenant" });
    expect(calls).toHaveLength(1);
  });

  it("a hostile tenant from a challenge (CR/LF, quotes, 10 kB) is cut and neutralised in the message", async () => {
    const { credential } = recordingCredential();
    const adapter = createCertboundTokenCredential({ credential, tenantId: "contoso" });
    const error = await adapter
      .getToken("s", { tenantId: `evil"\r\nSet-Cookie: a=b${"x".repeat(10_000)}` })
      .then(
        () => {
          throw new Error("expected a refusal");
        },
        (e: Error) => e,
      );
    expect(error.message).not.toMatch(/[\r\n"]Set/);
    expect(error.message).toContain('tenant "evil???Set-Cookie?');
    expect(error.message.length).toBeLessThan(1000);
  });

  it("without a configured tenant, a token from another tenant than the requested one is not handed out", async () => {
    const { credential } = recordingCredential(() => ({ tenantId: "tenant-a" }));
    const adapter = createCertboundTokenCredential({ credential });
    await expect(adapter.getToken("s", { tenantId: "tenant-b" })).rejects.toMatchObject({
      code: "invalid_options",
    });
    await expect(adapter.getToken("s", { tenantId: "tenant-a" })).resolves.toBeTruthy();
    await expect(adapter.getToken("s")).resolves.toBeTruthy();
  });

  it("never downgrades: a Bearer answer to a PoP request, or a PoP answer to a Bearer request, fails", async () => {
    const bearer = recordingCredential(() => ({ tokenType: "Bearer", bindingCertificate: undefined }));
    await expect(
      createCertboundTokenCredential({ credential: bearer.credential }).getToken("s"),
    ).rejects.toMatchObject({
      code: "pop_validation_failed",
    });
    const pop = recordingCredential();
    await expect(
      createCertboundTokenCredential({ credential: pop.credential, mtlsProofOfPossession: false }).getToken(
        "s",
      ),
    ).rejects.toMatchObject({ code: "token_type_mismatch" });
    expect(pop.calls[0]?.options?.mtlsProofOfPossession).toBe(false);
  });

  it("an answer without a token fails instead of sending 'Bearer undefined'", async () => {
    const { credential } = recordingCredential(() => ({ accessToken: undefined as unknown as string }));
    await expect(createCertboundTokenCredential({ credential }).getToken("s")).rejects.toMatchObject({
      code: "invalid_token_response",
    });
  });

  it("refuses options that are not a certbound credential, with how to fix it", () => {
    expect(() => createCertboundTokenCredential({ credential: {} as Credential })).toThrow(
      /createConfidentialClient/,
    );
    const { credential } = recordingCredential();
    expect(() =>
      createCertboundTokenCredential({ credential, mtlsProofOfPossession: "yes" as unknown as boolean }),
    ).toThrow(/boolean/);
    expect(() => createCertboundTokenCredential({ credential, tenantId: " " })).toThrow(/tenantId/);
  });
});
