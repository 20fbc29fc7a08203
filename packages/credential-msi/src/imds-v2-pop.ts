import {
  type AcquiredToken,
  buildTokenRequest,
  CertboundError,
  createBindingCertificate,
  halfLifeRefresh,
  isCertboundError,
  MTLS_POP_TOKEN_TYPE,
  parseTokenResponse,
  type ServiceError,
  type SourceRequest,
  sendWithRetry,
  type ThrottleGuard,
  tokenEndpointRetryPolicy,
} from "@certbound/core";
import type { BindingCertificateCache, MintedCertificate } from "./binding-certificate-cache";
import { MIN_CERTIFICATE_REMAINING_MS } from "./binding-certificate-cache";
import { buildCsr } from "./csr";
import { identityKey, type ManagedIdentityId } from "./identity";
import { getPlatformMetadata, type ImdsV2Call, issueCredential, type PlatformMetadata } from "./imds-v2";
import type { KeyProvider } from "./key-provider";
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
}

/** The binding-certificate cache key: identity plus IMDS endpoint. */
export function certificateCacheKey(identity: ManagedIdentityId, endpoint: string): string {
  return `${identityKey(identity)}|${endpoint.toLowerCase()}`;
}

/**
 * The IMDS v2 mTLS PoP flow of protocol.md section 3 as a credential source: getplatformmetadata
 * (every network acquisition), a binding certificate (cached, or key + CSR + issuecredential),
 * then the token over mTLS. An `invalid_client` answer or a failed TLS handshake drops the
 * certificate and retries once with a fresh one.
 *
 * @example
 * ```ts
 * const manager = createTokenManager({ source: createImdsV2PopSource({ ctx, endpoint, identity, keyProvider, certificates, throttle }) });
 * ```
 */
export function createImdsV2PopSource(
  options: ImdsV2PopOptions,
): (request: SourceRequest) => Promise<AcquiredToken> {
  const { ctx, endpoint, identity, keyProvider, certificates, throttle } = options;
  const certKey = certificateCacheKey(identity, endpoint);

  async function mint(metadata: PlatformMetadata, call: ImdsV2Call): Promise<MintedCertificate> {
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
    const credential = await issueCredential(ctx, call, csr);
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
      ctx.log.warn("IMDS issued a binding certificate valid for less than 24 hours; it will not be reused", {
        correlationId: call.correlationId,
      });
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
      tokenEndpoint: `${credential.mtlsAuthenticationEndpoint}/${encodeURIComponent(credential.tenantId)}/oauth2/v2.0/token`,
    };
  }

  async function requestToken(
    minted: MintedCertificate,
    request: SourceRequest,
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
        reason: error.code === "tls_handshake_failed" ? error.code : "invalid_client",
      });
      certificates.drop(certKey, minted.binding.x5tS256);
      const fresh = await certificates.get(certKey, () => mint(metadata, call), request.signal);
      return requestToken(fresh, request, call);
    }
  };
}

/** `invalid_client` from Entra, or a TLS handshake the server refused: the certificate is the suspect. */
function isCertificateRejection(error: unknown): error is CertboundError {
  return (
    isCertboundError(error) &&
    (error.code === "tls_handshake_failed" || (error as Partial<ServiceError>).errorCode === "invalid_client")
  );
}
