import { CertboundError } from "@certbound/core";

// Entra ID's mTLS token hosts, one per cloud (the `login.` host of each cloud with `mtlsauth.`
// instead), each optionally under one region label such as `westus3.`. IMDS answers with the
// regional host of the cloud the VM runs in; nothing else can carry a managed identity's token.
const ENTRA_MTLS_HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)?mtlsauth\.(?:microsoft\.com|microsoftonline\.us|partner\.microsoftonline\.cn)$/;

/**
 * Checks the `mtls_authentication_endpoint` of an issuecredential answer and returns it without a
 * trailing slash. Whoever answers on the IMDS address decides where the binding certificate is
 * presented and which token comes back, so the answer must name an https Entra ID mTLS host
 * (`[region.]mtlsauth.microsoft.com`, `mtlsauth.microsoftonline.us`,
 * `mtlsauth.partner.microsoftonline.cn`) on the default port, with no credentials, query or
 * path. An app that set `mtlsAuthorityHost` does not use this answer at all.
 *
 * @example
 * ```ts
 * checkMtlsAuthenticationEndpoint("https://westus3.mtlsauth.microsoft.com/", correlationId);
 * // "https://westus3.mtlsauth.microsoft.com"
 * ```
 */
export function checkMtlsAuthenticationEndpoint(value: string, correlationId: string): string {
  const refuse = (reason: string) =>
    new CertboundError(
      "managed_identity_request_failed",
      `The \`mtls_authentication_endpoint\` returned by IMDS issuecredential ${reason} No token is requested from it. If this VM really uses another token host (a private cloud, a local emulator), set \`mtlsAuthorityHost\`.`,
      { correlationId },
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse("is not a URL.");
  }
  if (url.protocol !== "https:") throw refuse("is not https; a token is never requested over plain HTTP.");
  if (url.username !== "" || url.password !== "") throw refuse("carries credentials (userinfo).");
  if (url.port !== "" || url.search !== "" || url.hash !== "" || !/^\/*$/.test(url.pathname)) {
    throw refuse("has a port, path, query or fragment; Entra ID's mTLS endpoint is a bare https host.");
  }
  if (!ENTRA_MTLS_HOST.test(url.hostname)) {
    throw refuse("is not an Entra ID mTLS host (such as westus3.mtlsauth.microsoft.com).");
  }
  return url.origin;
}
