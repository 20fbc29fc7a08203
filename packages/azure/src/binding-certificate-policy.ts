import { X509Certificate } from "node:crypto";
import type {
  PipelinePolicy,
  PipelineRequest,
  PipelineResponse,
  SendRequest,
  TlsSettings,
} from "@azure/core-rest-pipeline";
import { CertboundError, type TokenResult } from "@certbound/core";
import {
  invalidOptions,
  parseBearerChallenge,
  SERVER_TEXT_LIMITS,
  serverText,
  tokenBindingThumbprint,
  x5tS256,
} from "@certbound/core/credential-kit";
import { PACKAGE } from "./package-name";
import { TlsSettingsCache } from "./tls-settings";
import type { CertboundTokenCredential } from "./token-credential";

/**
 * The name of the policy {@link createBindingCertificatePolicy} returns, for
 * `pipeline.removePolicy({ name })` or ordering other policies around it.
 *
 * @public
 * @example
 * ```ts
 * client.pipeline.removePolicy({ name: bindingCertificatePolicyName });
 * ```
 */
export const bindingCertificatePolicyName = "certboundBindingCertificatePolicy";

/**
 * Options of {@link createBindingCertificatePolicy}.
 *
 * @public
 * @example
 * ```ts
 * const options: BindingCertificatePolicyOptions = { credential: createCertboundTokenCredential({ credential: app }) };
 * ```
 */
export interface BindingCertificatePolicyOptions {
  /** The credential the client authenticates with: the policy presents the certificates of its tokens. */
  readonly credential: CertboundTokenCredential;
}

/**
 * A pipeline policy that presents, on each attempt of each request, the binding certificate of the
 * token in its `Authorization` header, so the TLS client certificate always matches the token the
 * authentication policy attached, also when the credential's binding certificate rotates. Add it
 * with `position: "perRetry"`: it then runs after the authentication policy (Azure Core's
 * bearer-token policy and Key Vault's challenge policy alike), on every retry.
 *
 * - Each certificate gets one `tlsSettings` object, so the SDK's Node HTTP client keeps one
 *   keep-alive agent (and one TLS handshake per host) per certificate; the client's own
 *   `tlsOptions` (a `ca`, say) are kept underneath.
 * - A request without a token (Key Vault's first, challenge-seeking request) or with a Bearer
 *   token goes with the client's own TLS settings and no certificate.
 * - A request with a custom `agent` cannot present the certificate (the agent replaces the TLS
 *   settings): refused with `binding_certificate_missing` before it is sent.
 * - When the resource answers 401 `invalid_token` to a certificate-bound token and the reason is
 *   on this side (the token did not come from this policy's credential, or a later policy replaced
 *   the TLS settings), the call fails with `binding_certificate_missing` or
 *   `binding_certificate_mismatch` saying which. (A credential that returns a certificate other
 *   than the token's `cnf` names is refused earlier, by the credential adapter:
 *   `pop_validation_failed`.)
 *
 * @public
 * @example
 * ```ts
 * const credential = createCertboundTokenCredential({ credential: app });
 * const client = new SecretClient(vaultUrl, credential, {
 *   additionalPolicies: [{ policy: createBindingCertificatePolicy({ credential }), position: "perRetry" }],
 * });
 * ```
 */
export function createBindingCertificatePolicy(options: BindingCertificatePolicyOptions): PipelinePolicy {
  const credential = options?.credential;
  if (typeof credential?.tokenResultFor !== "function" || typeof credential.getToken !== "function") {
    throw invalidOptions(
      PACKAGE,
      "`credential` must come from createCertboundTokenCredential (or certboundClientOptions): the policy looks up the certificate of each token it handed out.",
    );
  }
  const cache = new TlsSettingsCache();
  return {
    name: bindingCertificatePolicyName,
    async sendRequest(request: PipelineRequest, next: SendRequest): Promise<PipelineResponse> {
      const base = cache.baseOf(request.tlsSettings);
      const token = tokenOf(request.headers.get("authorization"));
      const result = token === undefined ? undefined : credential.tokenResultFor(token);
      const binding = result?.bindingCertificate;
      if (binding) {
        if (request.agent) {
          throw new CertboundError(
            "binding_certificate_missing",
            `${PACKAGE}: this request has its own \`agent\` (the client's \`agent\` option, or a policy's), which replaces the TLS settings, so the token's binding certificate (x5t#S256 ${binding.x5tS256}) cannot be presented and the resource would refuse the token. Remove the \`agent\` option; put a CA in \`tlsOptions\` instead.`,
          );
        }
        request.tlsSettings = cache.withCertificate(base, binding);
      } else {
        setTlsSettings(request, base);
      }
      const response = await next(request);
      if (response.status === 401 && token !== undefined) {
        const reason = explainRefusal(
          response,
          token,
          result,
          cache.certificateOf(request.tlsSettings),
          request,
        );
        if (reason) throw reason;
      }
      return response;
    },
  };
}

// The scheme the SDK writes is Bearer; certbound's own header helper may write mtls_pop.
function tokenOf(header: string | undefined): string | undefined {
  const match = /^(?:Bearer|mtls_pop)\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

function setTlsSettings(request: PipelineRequest, settings: TlsSettings | undefined): void {
  if (settings === undefined) delete request.tlsSettings;
  else request.tlsSettings = settings;
}

/**
 * Why a resource refused a certificate-bound token, when the cause is on the client side; or
 * `undefined` (then the SDK reports the 401 as it always does).
 */
function explainRefusal(
  response: PipelineResponse,
  token: string,
  result: TokenResult | undefined,
  presentedByUs: string | undefined,
  request: PipelineRequest,
): CertboundError | undefined {
  const challenge = parseBearerChallenge(response.headers.get("www-authenticate"));
  if (challenge.error !== "invalid_token") return undefined;
  const boundTo = tokenBindingThumbprint(token);
  const binding = result?.bindingCertificate;
  if (boundTo === undefined && binding === undefined) return undefined;
  const said = serverText(challenge.error_description, SERVER_TEXT_LIMITS.description, [token]);
  const resource = `The resource refused the token (invalid_token${said ? `: ${said}` : ""})`;
  if (!result) {
    return new CertboundError(
      "binding_certificate_missing",
      `${PACKAGE}: ${resource}. The token is bound to a certificate (x5t#S256 ${boundTo}), and it did not come from the credential this policy was made with, so no certificate was presented. Give the client the same credential as the policy: spread certboundClientOptions(...) into its options, or pass its \`credential\`.`,
    );
  }
  const presented = presentedByUs ?? thumbprintOf(request.tlsSettings);
  const expected = boundTo ?? binding?.x5tS256;
  if (presented !== expected) {
    return new CertboundError(
      presented === undefined ? "binding_certificate_missing" : "binding_certificate_mismatch",
      `${PACKAGE}: ${resource}. The token is bound to x5t#S256 ${expected}, and the request went with ${presented === undefined ? "no client certificate" : `x5t#S256 ${presented}`}: a policy after this one replaced request.tlsSettings. Let this policy run last (position "perRetry", added after your own policies).`,
    );
  }
  return undefined;
}

function thumbprintOf(settings: TlsSettings | undefined): string | undefined {
  const cert = settings?.cert;
  const pem = Array.isArray(cert) ? cert[0] : cert;
  if (pem === undefined) return undefined;
  try {
    return x5tS256(new Uint8Array(new X509Certificate(pem).raw));
  } catch {
    return "(unreadable certificate)";
  }
}
