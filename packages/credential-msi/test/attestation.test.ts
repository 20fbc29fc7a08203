// The attestation provider option (issue 13 item 13), against the in-memory IMDS. The emulator's
// attestation mode is tested end to end in e2e-attestation.test.ts.
import { CertboundError } from "@certbound/core";
import { describe, expect, it } from "vitest";
import type { AttestationProvider, AttestationRequest } from "../src/attestation";
import { createInMemoryKeyProvider } from "../src/index";
import { CLIENT, fakeImds, TENANT } from "./helpers/fake-imds";
import { json, pathOf } from "./helpers/fake-transport";
import { testKeyPair, testKeyProvider } from "./helpers/keys";
import { testClient } from "./helpers/test-client";

const ISSUE = "/metadata/identity/issuecredential";
const pop = { resource: "https://vault.azure.net", mtlsProofOfPossession: true } as const;
const issueBody = (imds: ReturnType<typeof fakeImds>) =>
  JSON.parse(imds.transport.requests.find((r) => pathOf(r) === ISSUE)?.body as string) as Record<
    string,
    unknown
  >;

describe("attestation provider", () => {
  // Follows MSAL.NET ImdsV2Tests.MtlsPop_WithAttestationSupport_Success_IncludesAttestationToken.
  it("gets the attestation endpoint and the key, and its token goes into issuecredential as attestation_token", async () => {
    const seen: AttestationRequest[] = [];
    const attestationProvider: AttestationProvider = async (request) => {
      seen.push(request);
      return "header.payload.signature";
    };
    const imds = fakeImds();
    const { msi } = testClient(imds.transport, { attestationProvider });
    const result = await msi.acquireToken({ ...pop, correlationId: "corr-a" });
    expect(result.tokenType).toBe("mtls_pop");
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      attestationEndpoint: "https://attest",
      clientId: CLIENT,
      tenantId: TENANT,
      correlationId: "corr-a",
      exportable: true,
    });
    expect(seen[0]?.keyPair).toBe(testKeyPair());
    expect(seen[0]?.signal).toBeInstanceOf(AbortSignal);
    expect(issueBody(imds)).toEqual({
      csr: expect.any(String),
      attestation_token: "header.payload.signature",
    });

    // A cached certificate is not attested again.
    await msi.acquireToken({ resource: "https://storage.azure.com", mtlsProofOfPossession: true });
    expect(seen).toHaveLength(1);
  });

  // Follows MSAL.NET ImdsV2Tests.MtlsPop_NoAttestationProvider_UsesNonAttestedFlow.
  it("without a provider the body is only the CSR", async () => {
    const imds = fakeImds();
    await testClient(imds.transport).msi.acquireToken(pop);
    expect(Object.keys(issueBody(imds))).toEqual(["csr"]);
  });

  it("passes the key provider's `exportable` (the in-memory default says true)", async () => {
    expect(createInMemoryKeyProvider().exportable).toBe(true);
    const seen: boolean[] = [];
    const keyProvider = { ...testKeyProvider(), exportable: false };
    const { msi } = testClient(fakeImds().transport, {
      keyProvider,
      attestationProvider: async (request) => {
        seen.push(request.exportable);
        return "t";
      },
    });
    await msi.acquireToken(pop);
    expect(seen).toEqual([false]);
    expect(() =>
      testClient(fakeImds().transport, { keyProvider: { ...testKeyProvider(), exportable: "no" as never } }),
    ).toThrow(expect.objectContaining({ code: "invalid_options" }));
  });

  // Follows MSAL.NET ImdsV2Tests.MtlsPop_AttestationProviderReturnsEmptyToken_ThrowsAttestationFailed and
  // MtlsPop_AttestationProviderReturnsNull_ThrowsAttestationFailed: never a silent non-attested request.
  it("a provider returning no usable token is attestation_failed, and no issuecredential is sent", async () => {
    for (const token of ["", "   ", "two\nlines", undefined, null, 42]) {
      const imds = fakeImds();
      const { msi } = testClient(imds.transport, { attestationProvider: async () => token as never });
      await expect(msi.acquireToken(pop)).rejects.toMatchObject({ code: "attestation_failed" });
      expect(imds.count(ISSUE)).toBe(0);
    }
  });

  // Follows MSAL.NET ImdsV2Tests.MtlsPop_AttestationProviderThrows_ThrowsAttestationFailedWithInner.
  it("a provider that throws is attestation_failed with the cause kept", async () => {
    const boom = new TypeError("native boom");
    const imds = fakeImds();
    const { msi } = testClient(imds.transport, {
      attestationProvider: async () => {
        throw boom;
      },
    });
    const error = (await msi.acquireToken(pop).catch((e: unknown) => e)) as CertboundError;
    expect(error).toMatchObject({ code: "attestation_failed" });
    expect(error.cause).toBe(boom);
    expect(imds.count(ISSUE)).toBe(0);
  });

  // Follows MSAL.NET ImdsV2Tests.MtlsPop_AttestationProviderCancelled_PropagatesCancellation.
  it("an abort from the provider passes through unchanged", async () => {
    const aborted = new CertboundError("aborted", "attestation canceled");
    const { msi } = testClient(fakeImds().transport, {
      attestationProvider: async () => {
        throw aborted;
      },
    });
    await expect(msi.acquireToken(pop)).rejects.toBe(aborted);
  });

  it("must be a function", () => {
    expect(() => testClient(fakeImds().transport, { attestationProvider: "token" as never })).toThrow(
      expect.objectContaining({
        code: "invalid_options",
        message: expect.stringMatching(/attestationProvider/),
      }),
    );
  });

  it("IMDS refusing an unattested key is managed_identity_attestation_required, through the client", async () => {
    const imds = fakeImds((_r, path) =>
      path === ISSUE
        ? json(400, { error: "invalid_request", error_description: "Attestation Token is missing / empty" })
        : undefined,
    );
    await expect(testClient(imds.transport).msi.acquireToken(pop)).rejects.toMatchObject({
      code: "managed_identity_attestation_required",
      status: 400,
    });
    // Not retried: a 400 is IMDS's answer, not a transient failure.
    expect(imds.count(ISSUE)).toBe(1);
  });
});
