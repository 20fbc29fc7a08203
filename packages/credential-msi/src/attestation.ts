import { CertboundError, isCertboundError, ServiceError } from "@certbound/core";
import type { ManagedIdentityKeyPair } from "./key-provider";

/**
 * What an {@link AttestationProvider} gets for one certificate request.
 *
 * @public
 * @example
 * ```ts
 * const request: AttestationRequest = { attestationEndpoint, keyPair, exportable: true, clientId, tenantId, correlationId };
 * ```
 */
export interface AttestationRequest {
  /** `attestationEndpoint` from getplatformmetadata: where this VM's attestation service is. */
  readonly attestationEndpoint: string;
  /** The key pair the key provider returned, which the certificate will be issued for. */
  readonly keyPair: ManagedIdentityKeyPair;
  /** Whether the key provider says its private key can be exported (an in-process key can). */
  readonly exportable: boolean;
  /** The identity's client id and tenant, from getplatformmetadata. */
  readonly clientId: string;
  readonly tenantId: string;
  readonly correlationId: string;
  /** Ends the attestation when the acquisition is abandoned. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Obtains an attestation token for the key IMDS v2 is asked to certify; it is sent as
 * `attestation_token` in issuecredential (as MSAL.NET does for attested KeyGuard keys). Return the
 * token text; throw, or return an empty string, when attestation fails (`attestation_failed`).
 *
 * @public
 * @example
 * ```ts
 * const attestationProvider: AttestationProvider = async ({ attestationEndpoint, keyPair, signal }) => {
 *   return await myAttestationClient.attest(attestationEndpoint, keyPair.publicKey, { signal });
 * };
 * const msi = createManagedIdentityClient({ transport, attestationProvider });
 * ```
 */
export type AttestationProvider = (request: AttestationRequest) => Promise<string>;

/**
 * Runs the attestation provider. A token that is not a non-empty single line, or a provider that
 * throws, is `attestation_failed` (MSAL.NET ImdsV2ManagedIdentitySource.GetAttestationJwtAsync):
 * a certificate request is never sent without the attestation that was asked for. An abort
 * passes through unchanged.
 */
export async function runAttestationProvider(
  provider: AttestationProvider,
  request: AttestationRequest,
): Promise<string> {
  let token: unknown;
  try {
    token = await provider(request);
  } catch (error) {
    if (request.signal?.aborted || (isCertboundError(error) && error.code === "aborted")) throw error;
    throw new CertboundError(
      "attestation_failed",
      `The attestation provider failed${error instanceof Error && error.name ? ` (${error.name})` : ""}; no certificate request was sent to IMDS. Check the provider and the VM's attestation endpoint.`,
      { correlationId: request.correlationId, cause: error },
    );
  }
  if (typeof token !== "string" || token.trim() === "" || /[\s]/.test(token.trim())) {
    throw new CertboundError(
      "attestation_failed",
      "The attestation provider returned no usable token (it must be a non-empty string without spaces or line breaks); no certificate request was sent to IMDS.",
      { correlationId: request.correlationId },
    );
  }
  return token.trim();
}

/** Whether an issuecredential error is IMDS's "Attestation Token is missing / empty" refusal. */
export function isAttestationMissing(error: ServiceError): boolean {
  return (
    error.status === 400 &&
    // "Attestation Token is missing / empty"; an invalid token is another failure.
    /attestation[ _-]?token[^.]*\b(missing|empty)\b/i.test(error.errorDescription ?? "")
  );
}

/**
 * The error for IMDS refusing a certificate request without an attestation token, with the
 * service's details kept.
 */
export function attestationRequired(error: ServiceError, correlationId: string): ServiceError {
  return new ServiceError(
    "managed_identity_attestation_required",
    "IMDS refused to issue a binding certificate without an attestation token: it does not yet certify unattested software keys such as the in-process key Node uses for mutual TLS. Request a Bearer token here (leave `mtlsProofOfPossession` off), or pass an `attestationProvider` that obtains an attestation token for the key from the VM's attestation endpoint.",
    {
      status: error.status,
      errorCode: error.errorCode,
      errorDescription: error.errorDescription,
      errorCodes: error.errorCodes,
      traceId: error.traceId,
      correlationId: error.correlationId ?? correlationId,
      retryAfterMs: error.retryAfterMs,
      cause: error,
    },
  );
}
