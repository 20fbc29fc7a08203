import { CertboundError, isCertboundError, MTLS_POP_TOKEN_TYPE, type ServiceError } from "@certbound/core";
import {
  type AcquiredToken,
  buildTokenRequest,
  createBindingCertificate,
  type FetchRequest,
  halfLifeRefresh,
  parseTokenResponse,
  sendWithRetry,
  type ThrottleGuard,
  tokenEndpointRetryPolicy,
  traceCertificateMint,
} from "@certbound/core/credential-kit";
import { type AttestationProvider, runAttestationProvider } from "./attestation";
import type { BindingCertificateCache, MintedCertificate } from "./binding-certificate-cache";
import { MIN_CERTIFICATE_REMAINING_MS } from "./binding-certificate-cache";
import { buildCsr } from "./csr";
import { identityKey, type ManagedIdentityId } from "./identity";
import {
  checkSameIdentity,
  getPlatformMetadata,
  type ImdsV2Call,
  issueCredential,
  type PlatformMetadata,
} from "./imds-v2";
import type { KeyProvider } from "./key-provider";
import { checkMtlsAuthenticationEndpoint } from "./mtls-endpoint";
import { type RequestContext, startBudget } from "./request-context";

/** What the IMDS v2 PoP flow needs. */
export interface ImdsV2PopOptions {
  readonly ctx: RequestContext;
  /** IMDS base URL. */
  readonly endpoint: string;
  readonly identity: ManagedIdentityId;
  readonly keyProvider: KeyProvider;
  readonly certificates: BindingCertificateCache;
  readonly throttle: ThrottleGuard;
  /** Attests the key before each issuecredential; none sends no `attestation_token`. */
  readonly attestationProvider?: AttestationProvider | undefined;
  /** The app's own mTLS token host: replaces (and skips checking) IMDS's `mtls_authentication_endpoint`. */
  readonly mtlsAuthorityHost?: string | undefined;
}

/** The binding-certificate cache key: identity plus IMDS endpoint. */
export function certificateCacheKey(identity: ManagedIdentityId, endpoint: string): string {
  return `${identityKey(identity)}|${endpoint.toLowerCase()}`;
}

/**
 * The IMDS v2 mTLS PoP flow of https://github.com/certbound/certbound/blob/main/docs/protocol.md#s3-imds-v2 as a credential source: getplatformmetadata
 * (every network acquisition), a binding certificate (cached, or key + CSR + issuecredential),
 * then the token over mTLS. An `invalid_client` answer, a failed TLS handshake or a connection
 * reset drops the certificate and retries once with a fresh one, reading getplatformmetadata
 * again first (MSAL.NET ManagedIdentityAuthRequest.SendDelegatedImdsV2TokenRequestAsync).
 *
 * @example
 * ```ts
 * const manager = createTokenManager({ fetcher: createImdsV2PopFetcher({ ctx, endpoint, identity, keyProvider, certificates, throttle }) });
 * ```
 */
export function createImdsV2PopFetcher(
  options: ImdsV2PopOptions,
): (request: FetchRequest) => Promise<AcquiredToken> {
  const { ctx, endpoint, identity, keyProvider, certificates, throttle, attestationProvider } = options;
  const certKey = certificateCacheKey(identity, endpoint);

  // Published on the `certbound:msi:certificate:mint:*` diagnostics channels when subscribed.
  const mint = (metadata: PlatformMetadata, call: ImdsV2Call): Promise<MintedCertificate> =>
    traceCertificateMint(call.correlationId, ctx.clock, () => mintUntraced(metadata, call));

  async function mintUntraced(metadata: PlatformMetadata, call: ImdsV2Call): Promise<MintedCertificate> {
    const keys = await keyProvider.getKey(identityKey(identity));
    if (keys?.privateKey?.type !== "private" || keys.publicKey?.type !== "public") {
      throw new CertboundError(
        "invalid_private_key",
        "The key provider must return `{ privateKey, publicKey }` as node:crypto KeyObjects.",
        { correlationId: call.correlationId },
      );
    }
    const csr = buildCsr({
      tenantId: metadata.tenantId,
      clientId: metadata.clientId,
      cuId: metadata.cuId,
      privateKey: keys.privateKey,
      publicKey: keys.publicKey,
    });
    const attestationToken =
      attestationProvider === undefined
        ? undefined
        : await runAttestationProvider(attestationProvider, {
            attestationEndpoint: metadata.attestationEndpoint,
            keyPair: keys,
            exportable: keyProvider.exportable ?? true,
            clientId: metadata.clientId,
            tenantId: metadata.tenantId,
            correlationId: call.correlationId,
            signal: call.signal,
          });
    const credential = await issueCredential(ctx, call, csr, attestationToken);
    // Checked before anything is cached: an answer for another identity, or naming a token host
    // that is not Entra ID's, is refused.
    checkSameIdentity("issuecredential", credential, call, metadata);
    const tokenHost =
      options.mtlsAuthorityHost ??
      checkMtlsAuthenticationEndpoint(credential.mtlsAuthenticationEndpoint, call.correlationId);
    if (!credential.certificate.checkPrivateKey(keys.privateKey)) {
      throw new CertboundError(
        "invalid_certificate",
        "IMDS issued a certificate for a different key than the one in the certificate request.",
        { correlationId: call.correlationId },
      );
    }
    const now = ctx.clock.now();
    const binding = createBindingCertificate({
      certificate: [credential.certificate],
      privateKey: keys.privateKey,
      now,
    });
    if (binding.notAfter.getTime() - now <= MIN_CERTIFICATE_REMAINING_MS) {
      ctx.log.warn(
        "IMDS issued a binding certificate valid for less than 24 hours; the next new token gets a new one",
        {
          correlationId: call.correlationId,
        },
      );
    }
    ctx.log.info("minted an IMDS v2 binding certificate", {
      correlationId: call.correlationId,
      x5tS256: binding.x5tS256,
      notAfter: binding.notAfter.toISOString(),
      identityType: credential.identityType,
    });
    return {
      binding,
      clientId: credential.clientId,
      tenantId: credential.tenantId,
      tokenEndpoint: `${tokenHost}/${encodeURIComponent(credential.tenantId)}/oauth2/v2.0/token`,
    };
  }

  async function requestToken(
    minted: MintedCertificate,
    request: FetchRequest,
    call: ImdsV2Call,
  ): Promise<AcquiredToken> {
    const scope = request.scopes.join(" ");
    const response = await sendWithRetry(
      ctx.transport,
      buildTokenRequest({
        url: minted.tokenEndpoint,
        form: {
          grant_type: "client_credentials",
          client_id: minted.clientId,
          scope,
          token_type: MTLS_POP_TOKEN_TYPE,
          claims: request.claims,
        },
        correlationId: request.correlationId,
        clientIdentity: minted.binding,
        ca: ctx.ca,
        timeoutMs: ctx.timeoutMs,
      }),
      {
        policy: tokenEndpointRetryPolicy,
        clock: ctx.clock,
        signal: request.signal,
        budget: call.budget,
        throttle: { guard: throttle, key: `${minted.tokenEndpoint}\u0000${minted.clientId}\u0000${scope}` },
      },
    );
    const now = ctx.clock.now();
    const parsed = parseTokenResponse(response, {
      expectedTokenType: MTLS_POP_TOKEN_TYPE,
      now,
      correlationId: request.correlationId,
      what: "Entra ID's mTLS token endpoint",
      hint: (errorCode) =>
        errorCode === "invalid_client"
          ? "The IMDS-issued binding certificate was not accepted even after minting a new one; check the identity's assignment to this VM."
          : undefined,
    });
    return {
      accessToken: parsed.accessToken,
      tokenType: MTLS_POP_TOKEN_TYPE,
      expiresOn: parsed.expiresOn,
      refreshOn:
        parsed.refreshOn ??
        (() => {
          const at = halfLifeRefresh(now, parsed.expiresOn.getTime());
          return at === undefined ? undefined : new Date(at);
        })(),
      tenantId: minted.tenantId,
      bindingCertificate: minted.binding,
      tokenEndpoint: minted.tokenEndpoint,
    };
  }

  return async (request) => {
    const call: ImdsV2Call = {
      endpoint,
      identity,
      correlationId: request.correlationId,
      signal: request.signal,
      budget: startBudget(ctx, request.correlationId),
    };
    const metadata = await getPlatformMetadata(ctx, call);
    const minted = await certificates.get(certKey, () => mint(metadata, call), request.signal);
    try {
      return await requestToken(minted, request, call);
    } catch (error) {
      if (!isCertificateRejection(error)) throw error;
      ctx.log.warn("the mTLS token endpoint rejected the binding certificate; minting a new one once", {
        correlationId: request.correlationId,
        reason: rejectionReason(error),
      });
      certificates.drop(certKey, minted.binding.x5tS256);
      // The rejection may come from a changed assignment: read the platform metadata again.
      const fresh = await certificates.get(
        certKey,
        async () => mint(await getPlatformMetadata(ctx, call), call),
        request.signal,
      );
      return requestToken(fresh, request, call);
    }
  };
}

/**
 * `invalid_client` from Entra, a TLS handshake the server refused, or a connection the server reset
 * (how a TLS 1.3 server rejects a client certificate after the handshake; MSAL.NET
 * ImdsV2ManagedIdentitySource.IsSchanelFailure): the certificate is the suspect.
 */
function isCertificateRejection(error: unknown): error is CertboundError {
  return isCertboundError(error) && rejectionReason(error) !== undefined;
}

function rejectionReason(error: CertboundError): string | undefined {
  if (error.code === "tls_handshake_failed") return error.code;
  if ((error as Partial<ServiceError>).errorCode === "invalid_client") return "invalid_client";
  if (error.code === "network_error" && isConnectionReset(error.cause)) return "connection_reset";
  return undefined;
}

// Node's ECONNRESET / EPIPE, and undici's UND_ERR_SOCKET ("other side closed"), anywhere in the causes.
function isConnectionReset(cause: unknown, depth = 0): boolean {
  if (depth > 4 || typeof cause !== "object" || cause === null) return false;
  const { code, cause: inner } = cause as { code?: unknown; cause?: unknown };
  if (code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET") return true;
  return isConnectionReset(inner, depth + 1);
}
