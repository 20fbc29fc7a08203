/** What a fix-it hint may mention about the request that failed. */
export interface HintContext {
  readonly pop: boolean;
  readonly sendX5c: boolean;
  /** SHA-1 thumbprint of the certificate, upper-case hex (what the Entra portal lists). */
  readonly thumbprintSha1: string;
}

// AADSTS700016: "Application with identifier '...' was not found in the directory '...'".
const APPLICATION_NOT_FOUND = 700016;

/**
 * A fix-it sentence for an error answer of Entra's token endpoint, appended to the ServiceError
 * message (the seed's troubleshooting table, in our words).
 *
 * @example
 * ```ts
 * parseTokenResponse(response, { expectedTokenType, now, hint: (code) => tokenErrorHint(code, context) });
 * ```
 */
export function tokenErrorHint(
  errorCode: string | undefined,
  context: HintContext,
  errorCodes?: readonly number[] | undefined,
): string | undefined {
  // AADSTS700016 comes as `unauthorized_client` (or `invalid_client`), but permissions are not the
  // problem: the directory has no such app, so say that first.
  if (errorCodes?.includes(APPLICATION_NOT_FOUND)) {
    return "This client id does not exist in this tenant (wrong tenant, or the app was deleted): check `clientId` against the app registration's Application (client) ID and the tenant in `authority` against its Directory (tenant) ID.";
  }
  switch (errorCode) {
    case "invalid_client":
      return `The certificate (thumbprint ${context.thumbprintSha1}) was not accepted for this app. Register it on the app registration (Certificates & secrets), or, for a certificate from a trusted CA used with subject name / issuer authentication (SNI), enable that on the app and pass \`sendX5c: true\`${context.sendX5c ? " (already on)" : ""}. Also check \`clientId\` and the tenant in \`authority\`.`;
    case "unauthorized_client":
      return "The app is not allowed to get this token: grant it the application permission (app role) on the target resource and have an admin consent, or check that `clientId` belongs to this tenant.";
    case "invalid_scope":
      return "App tokens take one resource with the /.default suffix, e.g. https://vault.azure.net/.default.";
    case "invalid_request":
      return context.pop
        ? "Check that the resource accepts mTLS Proof-of-Possession tokens and that the authority is tenant-specific."
        : undefined;
    default:
      return undefined;
  }
}
