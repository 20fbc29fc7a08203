import { createCertificateAuthority } from "@certbound/testing";
import { describe, expect, it } from "vitest";
import { parseIssuedCredential, parsePlatformMetadata } from "../src/imds-v2";
import { parseManagedIdentityResponse } from "../src/parse-managed-identity-response";
import { json } from "./helpers/fake-transport";

const now = Date.UTC(2026, 5, 1);
const cid = "corr-1";
const metadata = {
  clientId: "c",
  tenantId: "t",
  cuId: { vmId: "vm" },
  attestationEndpoint: "https://attest.example",
};
const imds = { server: "IMDS/150.870.65.1854" };

describe("parsePlatformMetadata", () => {
  it("reads the required fields from an IMDS answer", () => {
    expect(parsePlatformMetadata(json(200, metadata, imds), now, cid)).toEqual({
      ...metadata,
      cuId: { vmId: "vm", vmssId: undefined },
    });
  });

  it("404 means IMDS v1 only", () => {
    expect(() => parsePlatformMetadata(json(404, { error: "not_found" }, imds), now, cid)).toThrow(
      expect.objectContaining({
        code: "mtls_pop_token_not_supported_in_imds_v1",
        status: 404,
        correlationId: cid,
      }),
    );
  });

  it("an answer whose server header does not say IMDS is refused", () => {
    expect(() => parsePlatformMetadata(json(200, metadata, { server: "nginx" }), now, cid)).toThrow(
      expect.objectContaining({ code: "managed_identity_request_failed" }),
    );
    expect(
      parsePlatformMetadata(json(200, metadata, { server: "Microsoft-imds/1" }), now, cid).clientId,
    ).toBe("c");
  });

  it("missing fields, an empty cuId and invalid JSON are typed errors", () => {
    for (const broken of [
      { ...metadata, clientId: undefined },
      { ...metadata, tenantId: "" },
      { ...metadata, cuId: {} },
      { ...metadata, cuId: "vm" },
      { ...metadata, attestationEndpoint: undefined },
    ]) {
      expect(() => parsePlatformMetadata(json(200, broken, imds), now, cid)).toThrow(
        expect.objectContaining({ code: "managed_identity_request_failed" }),
      );
    }
    expect(() => parsePlatformMetadata({ status: 200, headers: imds, body: "{oops" }, now, cid)).toThrow(
      expect.objectContaining({ code: "managed_identity_response_parse_failure" }),
    );
  });

  // Follows MSAL.NET ImdsV2ManagedIdentitySource.GetCsrMetadataAsync (ThrowProbeFailedException):
  // any failure but the v1 404 is ManagedIdentityRequestFailed, with the service's details kept.
  it("other error statuses are managed_identity_request_failed ServiceErrors with the nested error fields", () => {
    const error = (() => {
      try {
        parsePlatformMetadata(
          json(400, { error: { code: "invalid_request", message: "Identity not found" } }, imds),
          now,
          cid,
        );
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({
      name: "ServiceError",
      code: "managed_identity_request_failed",
      status: 400,
      errorCode: "invalid_request",
      errorDescription: "Identity not found",
    });
  });
});

describe("parseIssuedCredential", () => {
  const ca = createCertificateAuthority();
  const leaf = ca.issue({ commonName: "c" });
  const body = {
    client_id: "c",
    tenant_id: "t",
    certificate: Buffer.from(leaf.certificate.raw).toString("base64"),
    identity_type: "SystemAssigned",
    mtls_authentication_endpoint: "https://westus3.mtlsauth.microsoft.com/",
  };

  it("parses the certificate and keeps the endpoint as sent (checked by checkMtlsAuthenticationEndpoint)", () => {
    const credential = parseIssuedCredential(json(200, body), now, cid);
    expect(credential.certificate.fingerprint256).toBe(leaf.certificate.fingerprint256);
    expect(credential.mtlsAuthenticationEndpoint).toBe("https://westus3.mtlsauth.microsoft.com/");
  });

  // Follows MSAL.NET ImdsV2ManagedIdentitySource.ExecuteCertificateRequestAsync: a non-200 answer is
  // ManagedIdentityRequestFailed with the status.
  it("error statuses are managed_identity_request_failed ServiceErrors", () => {
    for (const status of [400, 403, 500, 503]) {
      expect(() =>
        parseIssuedCredential(json(status, { error: "some_error", error_description: "no" }), now, cid),
      ).toThrow(
        expect.objectContaining({
          name: "ServiceError",
          code: "managed_identity_request_failed",
          status,
          errorCode: "some_error",
        }),
      );
    }
  });

  it("every field is required", () => {
    for (const field of Object.keys(body)) {
      expect(() => parseIssuedCredential(json(200, { ...body, [field]: undefined }), now, cid)).toThrow(
        expect.objectContaining({
          code: "managed_identity_request_failed",
          message: expect.stringContaining(field),
        }),
      );
    }
  });

  it("a certificate that does not parse is invalid_certificate", () => {
    for (const certificate of ["bm90IGEgY2VydA==", "!!!", leaf.certificatePem]) {
      expect(() => parseIssuedCredential(json(200, { ...body, certificate }), now, cid)).toThrow(
        expect.objectContaining({ code: "invalid_certificate" }),
      );
    }
  });

  it("IMDS's 400 'Attestation Token is missing / empty' is managed_identity_attestation_required", () => {
    // The answer real IMDS gives today for a key without attestation (MSAL.NET models it in its mocks).
    const error = (() => {
      try {
        parseIssuedCredential(
          json(400, { error: "invalid_request", error_description: "Attestation Token is missing / empty" }),
          now,
          cid,
        );
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toMatchObject({
      name: "ServiceError",
      code: "managed_identity_attestation_required",
      status: 400,
      errorCode: "invalid_request",
      errorDescription: "Attestation Token is missing / empty",
      correlationId: cid,
    });
    // Two sentences: what happened and why, then what the app can do.
    expect(error?.message.split(/(?<=\.) (?=[A-Z])/)).toHaveLength(2);
    expect(error?.message).toMatch(/does not yet certify unattested software keys/);
    expect(error?.message).toMatch(/Bearer/);
    expect(error?.message).toMatch(/attestationProvider/);
  });
});

describe("parseManagedIdentityResponse", () => {
  const options = { what: "IMDS", now, correlationId: cid };

  it("reads expires_on (absolute epoch, relative seconds, ISO date) and expires_in", () => {
    const epoch = now / 1000 + 3600;
    expect(
      parseManagedIdentityResponse(
        json(200, { access_token: "a", expires_on: String(epoch) }),
        options,
      ).expiresOn.getTime(),
    ).toBe(now + 3600_000);
    expect(
      parseManagedIdentityResponse(
        json(200, { access_token: "a", expires_on: 600 }),
        options,
      ).expiresOn.getTime(),
    ).toBe(now + 600_000);
    expect(
      parseManagedIdentityResponse(
        json(200, { access_token: "a", expires_on: "2026-06-01T02:00:00Z" }),
        options,
      ).expiresOn.toISOString(),
    ).toBe("2026-06-01T02:00:00.000Z");
    expect(
      parseManagedIdentityResponse(
        json(200, { access_token: "a", expires_in: "3599" }),
        options,
      ).expiresOn.getTime(),
    ).toBe(now + 3599_000);
  });

  it("refreshes at half-life only when the token lives more than 2 hours", () => {
    const long = parseManagedIdentityResponse(json(200, { access_token: "a", expires_in: 86400 }), options);
    expect(long.refreshOn?.getTime()).toBe(now + 43200_000);
    const short = parseManagedIdentityResponse(json(200, { access_token: "a", expires_in: 3600 }), options);
    expect(short.refreshOn).toBeUndefined();
  });

  it("missing access_token or expiry is managed_identity_request_failed; bad JSON a parse failure", () => {
    expect(() => parseManagedIdentityResponse(json(200, { expires_in: 1 }), options)).toThrow(
      expect.objectContaining({ code: "managed_identity_request_failed" }),
    );
    expect(() => parseManagedIdentityResponse(json(200, { access_token: "a" }), options)).toThrow(
      expect.objectContaining({ code: "managed_identity_request_failed" }),
    );
    expect(() =>
      parseManagedIdentityResponse(json(200, { access_token: "a", expires_on: "soon" }), options),
    ).toThrow(expect.objectContaining({ code: "managed_identity_request_failed" }));
    expect(() => parseManagedIdentityResponse({ status: 200, headers: {}, body: "<html>" }, options)).toThrow(
      expect.objectContaining({ code: "managed_identity_response_parse_failure" }),
    );
  });

  it("error answers become ServiceErrors and never quote the body's token", () => {
    const response = json(500, {
      error: "server_error",
      error_description: "boom",
      access_token: "secret-token",
    });
    let error: unknown;
    try {
      parseManagedIdentityResponse(response, { ...options, hint: () => "Try later." });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ name: "ServiceError", status: 500, errorCode: "server_error" });
    expect((error as Error).message).toContain("Try later.");
    expect((error as Error).message).not.toContain("secret-token");
  });
});
