import { extname } from "node:path";
import type { HttpTransport, TokenResult } from "@certbound/core";
import { type CertificateInput, createConfidentialClient } from "@certbound/credential-cert";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { createUndiciTransport } from "@certbound/http-undici";
import { CliError } from "./cli-error";
import { type CredentialOptions, readCaFiles, readUserFile, timeoutMs } from "./credential-options";

export const PUBLIC_AUTHORITY_HOST = "https://login.microsoftonline.com";

/** Where a token came from, as `token` prints it. */
export interface TokenSourceInfo {
  readonly kind: "managed_identity" | "confidential_client";
  /** e.g. "managed identity (system-assigned)" or "confidential client 1111-... (certificate)". */
  readonly label: string;
}

/** A token with what is needed to use it; close() releases the client and its connections. */
export interface Acquired {
  readonly result: TokenResult;
  readonly source: TokenSourceInfo;
  readonly transport: HttpTransport;
  readonly ca: string[] | undefined;
  close(): Promise<void>;
}

/** What the options ask for, checked before any file is read or any request is sent. */
export function requestedResource(options: CredentialOptions, fallback?: string): string {
  const value = options.scope ?? options.resource ?? fallback;
  if (!value) {
    throw new CliError(
      "usage",
      "say which resource the token is for: --resource https://vault.azure.net (or --scope https://vault.azure.net/.default).",
    );
  }
  return value;
}

/** `https://vault.azure.net` or `https://vault.azure.net/.default` as a v2 app-token scope. */
export function scopeOf(resource: string): string {
  return resource.endsWith("/.default") ? resource : `${resource.replace(/\/+$/, "")}/.default`;
}

/** Builds the client the options describe and gets one token. */
export async function acquireToken(
  options: CredentialOptions,
  env: Readonly<Record<string, string | undefined>>,
  fallbackResource?: string,
): Promise<Acquired> {
  const resource = requestedResource(options, fallbackResource);
  const ca = readCaFiles(options.ca);
  const acquisitionTimeoutMs = timeoutMs(options.timeout, 30);
  const pop = options.bearer !== true;
  const transport = createUndiciTransport(ca ? { ca } : {});
  const close = async () => {
    await transport.close?.();
  };
  try {
    if (options.certificate !== undefined) {
      if (options.objectId !== undefined || options.resourceId !== undefined) {
        throw new CliError(
          "usage",
          "--object-id and --resource-id select a managed identity; with --certificate give --tenant and --client-id.",
        );
      }
      if (!options.tenant || !options.clientId) {
        throw new CliError(
          "usage",
          "a confidential client needs --tenant <tenant id> and --client-id <app id> with --certificate.",
        );
      }
      const certificate = readCertificateInput(options, env);
      const client = createConfidentialClient({
        clientId: options.clientId,
        authority: `${(options.authorityHost ?? PUBLIC_AUTHORITY_HOST).replace(/\/+$/, "")}/${options.tenant}`,
        certificate,
        transport,
        authorityHost: options.authorityHost,
        mtlsAuthorityHost: options.mtlsAuthorityHost,
        azureRegion: options.region,
        imdsEndpoint: options.imdsEndpoint,
        ca,
        env,
        acquisitionTimeoutMs,
      });
      const result = await client.acquireTokenForClient({
        scopes: [scopeOf(resource)],
        mtlsProofOfPossession: pop,
      });
      return {
        result,
        source: {
          kind: "confidential_client",
          label: `confidential client ${options.clientId} (certificate)`,
        },
        transport,
        ca,
        close,
      };
    }
    if (options.key !== undefined || options.tenant !== undefined || options.region !== undefined) {
      throw new CliError(
        "usage",
        "--key, --tenant and --region belong to a confidential client: add --certificate <file>, or leave them out for managed identity.",
      );
    }
    const msi = createManagedIdentityClient({
      transport,
      clientId: options.clientId,
      objectId: options.objectId,
      resourceId: options.resourceId,
      imdsEndpoint: options.imdsEndpoint,
      mtlsAuthorityHost: options.mtlsAuthorityHost,
      ca,
      env,
      acquisitionTimeoutMs,
    });
    try {
      const result = await msi.acquireToken({ resource, mtlsProofOfPossession: pop });
      return {
        result,
        source: { kind: "managed_identity", label: managedIdentityLabel(options) },
        transport,
        ca,
        close,
      };
    } finally {
      msi.close();
    }
  } catch (error) {
    await close();
    throw error;
  }
}

function managedIdentityLabel(options: CredentialOptions): string {
  if (options.clientId !== undefined)
    return `managed identity (user-assigned, client id ${options.clientId})`;
  if (options.objectId !== undefined)
    return `managed identity (user-assigned, object id ${options.objectId})`;
  if (options.resourceId !== undefined)
    return `managed identity (user-assigned, resource id ${options.resourceId})`;
  return "managed identity (system-assigned)";
}

/** PEM or PFX by file name and content; the passphrase from the environment variable named. */
export function readCertificateInput(
  options: CredentialOptions,
  env: Readonly<Record<string, string | undefined>>,
): CertificateInput {
  const file = options.certificate as string;
  const bytes = readUserFile(file, "certificate (--certificate)");
  const passphrase = options.passphraseEnv ? env[options.passphraseEnv] || undefined : undefined;
  const isPfx =
    [".pfx", ".p12"].includes(extname(file).toLowerCase()) ||
    !bytes.toString("latin1", 0, 64).includes("-----BEGIN");
  if (isPfx) {
    if (options.key !== undefined) {
      throw new CliError("usage", "--key is for PEM certificates; a PFX carries its own key.");
    }
    return { pfx: new Uint8Array(bytes), passphrase };
  }
  const privateKeyPem =
    options.key === undefined ? undefined : readUserFile(options.key, "private key (--key)").toString("utf8");
  return { certificatePem: bytes.toString("utf8"), privateKeyPem, passphrase };
}
