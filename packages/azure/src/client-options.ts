import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { createBindingCertificatePolicy } from "./binding-certificate-policy";
import {
  type CertboundTokenCredential,
  type CertboundTokenCredentialOptions,
  createCertboundTokenCredential,
} from "./token-credential";

/**
 * What {@link certboundClientOptions} returns: spread it into an Azure SDK client's options, and
 * pass `credential` where the client takes its credential.
 *
 * @public
 * @example
 * ```ts
 * const { credential, additionalPolicies }: CertboundClientOptions = certboundClientOptions({ credential: app });
 * ```
 */
export interface CertboundClientOptions {
  /** The Azure SDK `TokenCredential` backed by your certbound credential. */
  readonly credential: CertboundTokenCredential;
  /** The binding-certificate policy, per retry (after the client's authentication policy). */
  readonly additionalPolicies: { policy: PipelinePolicy; position: "perCall" | "perRetry" }[];
}

/**
 * The `TokenCredential` and the binding-certificate policy an Azure SDK client needs to call its
 * service with mTLS PoP tokens, made together so they share one memory of tokens and certificates.
 * Clients built on `@azure/core-client` or `@azure-rest/core-client` accept `additionalPolicies`
 * in their options; most take the credential as a constructor argument (`SecretClient(vaultUrl,
 * credential, options)`), others in their options: spreading the whole object covers both.
 *
 * @public
 * @example
 * ```ts
 * const azure = certboundClientOptions({ credential: createManagedIdentityClient() });
 * const secrets = new SecretClient("https://myvault.vault.azure.net", azure.credential, { ...azure });
 * const secret = await secrets.getSecret("db-password");
 * ```
 */
export function certboundClientOptions(options: CertboundTokenCredentialOptions): CertboundClientOptions {
  const credential = createCertboundTokenCredential(options);
  return {
    credential,
    additionalPolicies: [{ policy: createBindingCertificatePolicy({ credential }), position: "perRetry" }],
  };
}
