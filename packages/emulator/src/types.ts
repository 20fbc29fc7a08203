import type { KeyObject } from "node:crypto";
import type { KeyVaultSecretInput, KeyVaultSecretVersion } from "./keyvault-routes";

/**
 * Options of {@link startEmulator}. Every field is optional.
 *
 * @public
 * @example
 * ```ts
 * const emu = await startEmulator({ tokenLifetimeSeconds: 86400, imdsV2: false, now: clock.now });
 * ```
 */
export interface EmulatorOptions {
  /** Address every server listens on. @default "127.0.0.1" */
  host?: string;
  /** Port of each server; `0` (the default for each) picks a free ephemeral port. */
  ports?: {
    imds?: number;
    authority?: number;
    mtls?: number;
    resource?: number;
    managedIdentitySources?: number;
    serviceFabric?: number;
  };
  /** The emulated tenant. @default a random GUID per emulator */
  tenantId?: string;
  /** Lifetime of issued access tokens, in seconds. @default 3600 */
  tokenLifetimeSeconds?: number;
  /** Lifetime of certificates issued by IMDS `issuecredential`, in seconds. @default 604800 (7 days) */
  issuedCertificateLifetimeSeconds?: number;
  /** Whether IMDS v2 answers (`getplatformmetadata`, `issuecredential`); `false` emulates a v1-only VM (404). @default true */
  imdsV2?: boolean;
  /**
   * IMDS v2 issuecredential requires an attestation token, as real IMDS does today for keys that
   * are not attested: without one it answers 400 `invalid_request` "Attestation Token is missing /
   * empty". Tokens come from the emulator's attestation service: POST `{"publicKey": "<base64 SPKI
   * DER>"}` to `${emulator.attestationEndpoint}/attest`, send `token` as `attestation_token`.
   * @default false
   */
  requireAttestation?: boolean;
  /** `location` of `/metadata/instance/compute`. @default "westus3" */
  location?: string;
  /** Whether the protected resource accepts Bearer tokens (PoP tokens are always checked for `cnf`). @default true */
  resourceAcceptsBearer?: boolean;
  /** Audiences the protected resource accepts. @default [emulator.resourceUrl] */
  resourceAudiences?: string[];
  /** Clock (epoch milliseconds) for token `iat`/`exp`, assertion checks and issued certificate validity. @default Date.now */
  now?: () => number;
  /** `cuId.vmssId` of the emulated VM (left out of `cuId` when absent). @default undefined */
  vmssId?: string;
  /**
   * Refuse a client assertion whose `jti` was already used. Entra does not: @azure/msal-node and
   * @azure/identity sign one assertion and reuse it for about 10 minutes, and work against it. Turn
   * this on to catch a client of your own that must send a new assertion every time. @default false
   */
  rejectReplayedAssertions?: boolean;
  /**
   * Folder for the Azure Arc challenge key files. @azure/msal-node and @azure/identity read a key
   * file only at `/var/opt/azcmagent/tokens/<name>.key` (the agent's folder on Linux), so that is
   * the default wherever the emulator can create and write it (Linux as root, as in CI) and no real
   * agent is installed (`/opt/azcmagent/bin/himds`). Elsewhere, or with `"temporary"`, it is a new
   * temporary folder that only clients taking a token folder
   * (such as `@certbound/credential-msi`'s `arcTokenFolder`) can use. The emulator removes the files
   * it wrote on `close()`, never another's, and a temporary folder entirely.
   * @default "/var/opt/azcmagent/tokens" where writable, else "temporary"
   */
  arcTokenFolder?: string;
  /**
   * How the Azure Arc endpoint treats a user-assigned identity (`client_id`, `object_id` or
   * `msi_res_id`): `"current"` answers for that identity and echoes the selector in the token
   * response, as an agent with user-assigned identity support does; `"legacy"` ignores the
   * parameter and answers for the system-assigned identity, as older agents do (a client must
   * notice from the echoed `client_id`). @default "current"
   */
  azureArcAgent?: "current" | "legacy";
  /**
   * RSA private key that signs access tokens. Generating one takes a moment, so test suites that
   * start many emulators may share one. @default a new RSA 2048 key per emulator
   */
  signingKey?: KeyObject;
  /**
   * Serve the inspector, a web page at `{authorityHost}/_inspector` that shows each flow live
   * (requests, decoded tokens next to certificates, the first failing step) and can inject faults
   * and register clients. Loopback only. @default false (the `certbound-emulator` CLI turns it on)
   */
  inspector?: boolean;
}

/**
 * A managed identity of the emulated machine.
 *
 * @public
 * @example
 * ```ts
 * const { clientId, objectId, resourceId }: ManagedIdentityInfo = emu.registerManagedIdentity();
 * ```
 */
export interface ManagedIdentityInfo {
  clientId: string;
  objectId: string;
  resourceId: string;
}

/**
 * Options of {@link Emulator.registerConfidentialClient}.
 *
 * @public
 * @example
 * ```ts
 * emu.registerConfidentialClient({ clientId: "my-app", certificatePem, allowedScopes: [`${emu.resourceUrl}/.default`] });
 * ```
 */
export interface ConfidentialClientRegistration {
  clientId: string;
  /** The client's certificate (PEM, leaf first). Registering the same client again adds a certificate. */
  certificatePem: string;
  /** Scopes (or their resources) the client may ask for. @default any `<resource>/.default` */
  allowedScopes?: string[];
  /** Tenant the application lives in. @default the emulator's tenant */
  tenantId?: string;
  /** Object id of the application's service principal (the token's `oid`). @default a random GUID */
  objectId?: string;
}

/**
 * Managed-identity sources whose environment {@link Emulator.managedIdentityEnvironment} describes.
 *
 * @public
 * @example
 * ```ts
 * const source: ManagedIdentitySourceName = "serviceFabric";
 * Object.assign(process.env, emu.managedIdentityEnvironment(source));
 * ```
 */
export type ManagedIdentitySourceName =
  | "imds"
  | "appService"
  | "serviceFabric"
  | "azureArc"
  | "cloudShell"
  | "machineLearning";

/**
 * A running emulator: URLs, CAs, the directory of identities, fault injection and statistics.
 *
 * @public
 * @example
 * ```ts
 * const emu: Emulator = await startEmulator();
 * try {
 *   emu.registerConfidentialClient({ clientId: "my-app", certificatePem });
 *   emu.injectFault("mtlsToken", { status: 503, headers: { "retry-after": "2" } });
 *   // ... exercise a client ...
 *   console.log(emu.stats().requests.mtlsToken);
 * } finally {
 *   await emu.close();
 * }
 * ```
 */
export interface Emulator {
  /** `http://127.0.0.1:PORT`: plain HTTP like real IMDS; serves IMDS v1, v2 and instance compute. */
  readonly imdsEndpoint: string;
  /** `https://127.0.0.1:PORT`: the regular Entra host (client assertions, discovery, JWKS). */
  readonly authorityHost: string;
  /** `https://127.0.0.1:PORT`: the mTLS Entra host (authenticates by the TLS client certificate). */
  readonly mtlsAuthorityHost: string;
  /** `https://127.0.0.1:PORT`: the protected resource (any path; requires a client certificate). */
  readonly resourceUrl: string;
  readonly tenantId: string;
  /** PEM of the CA that signs every HTTPS server certificate of the emulator: pass it as `ca`. */
  readonly caCertificatePem: string;
  /**
   * `http://127.0.0.1:PORT/attestation`: the emulated attestation service getplatformmetadata names
   * (`POST {attestationEndpoint}/attest` with `{"publicKey": "<base64 SPKI DER>"}` returns `{"token"}`).
   */
  readonly attestationEndpoint: string;
  /** PEM of the CA that signs the certificates IMDS `issuecredential` issues. */
  readonly managedIdentityCaPem: string;
  /**
   * PEM of the Service Fabric endpoint's self-signed certificate. Clients that pin
   * `IDENTITY_SERVER_THUMBPRINT` need nothing else; @azure/msal-node and @azure/identity do not
   * pin and must trust it (add it to `NODE_EXTRA_CA_CERTS`).
   */
  readonly serviceFabricCertificatePem: string;
  readonly systemAssignedIdentity: ManagedIdentityInfo;
  /** Folder where the Azure Arc endpoint writes its challenge key files (see `arcTokenFolder` option). */
  readonly arcTokenFolder: string;
  /** `https://127.0.0.1:PORT/_inspector` when {@link EmulatorOptions.inspector} is on; else `undefined`. */
  readonly inspectorUrl: string | undefined;

  /** Registers (or adds a certificate to) a confidential client application. */
  registerConfidentialClient(o: ConfidentialClientRegistration): void;
  /** Adds a user-assigned managed identity; absent fields are generated. */
  registerManagedIdentity(o?: Partial<ManagedIdentityInfo>): ManagedIdentityInfo;
  /** Environment variables that make a client detect `source`, pointing at this emulator. */
  managedIdentityEnvironment(source: ManagedIdentitySourceName): Record<string, string>;

  /**
   * Stores a secret version in the emulated Key Vault on the resource server
   * (`GET {resourceUrl}/secrets/{name}[/{version}]?api-version=...`, Key Vault's challenge and JSON;
   * without `api-version` the path is the generic resource's). Tokens for it have the audience
   * `https://vault.azure.net`; `SecretClient` needs `disableChallengeResourceVerification: true`
   * (the challenge names vault.azure.net, the vault URL is 127.0.0.1).
   */
  setKeyVaultSecret(secret: KeyVaultSecretInput): KeyVaultSecretVersion;

  /** The next `fault.count` (default 1) requests to `endpoint` get this fault instead of the normal answer. */
  injectFault(endpoint: EndpointName, fault: Fault): void;
  clearFaults(): void;

  stats(): EmulatorStats;
  resetStats(): void;
  /** Closes every server and connection (hung requests included) and removes the Arc key files it wrote. */
  close(): Promise<void>;
}

/**
 * The endpoints the emulator counts, records and can inject faults into.
 *
 * @public
 * @example
 * ```ts
 * const endpoint: EndpointName = "issueCredential";
 * emu.injectFault(endpoint, { status: 410 });
 * ```
 */
export type EndpointName =
  | "token"
  | "mtlsToken"
  | "openidConfiguration"
  | "jwks"
  | "instanceDiscovery"
  | "getPlatformMetadata"
  | "issueCredential"
  | "attestation"
  | "imdsToken"
  | "compute"
  | "appService"
  | "serviceFabric"
  | "azureArc"
  | "cloudShell"
  | "machineLearning"
  | "resource";

/**
 * A fault to serve instead of the normal answer. With `status` or `body` the emulator answers with
 * them (status default 500, body default an error shaped like the endpoint's); with only `headers`
 * and/or `delayMs` the normal answer is sent, later and/or with the extra headers.
 *
 * @public
 * @example
 * ```ts
 * emu.injectFault("imdsToken", { status: 500, count: 3 });
 * emu.injectFault("token", { status: 429, headers: { "retry-after": "5" } });
 * emu.injectFault("getPlatformMetadata", { body: "{not json", status: 200 });
 * emu.injectFault("resource", { hang: true });
 * ```
 */
export interface Fault {
  /** How many requests get the fault. @default 1 */
  count?: number;
  status?: number;
  headers?: Record<string, string>;
  /** Raw body (malformed JSON allowed). */
  body?: string;
  /** Answer after this server-side delay. */
  delayMs?: number;
  /** Accept the request and never answer (until `close()`). */
  hang?: boolean;
  /** Destroy the connection without answering. */
  reset?: boolean;
}

/**
 * One request as the emulator saw it, with secrets redacted.
 *
 * @public
 * @example
 * ```ts
 * const last: RecordedRequest | undefined = emu.stats().recent.at(-1);
 * console.log(last?.endpoint, last?.form?.scope, last?.clientCertificateX5tS256);
 * ```
 */
export interface RecordedRequest {
  endpoint: EndpointName;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case names; secret-bearing headers are `"<redacted>"`. */
  headers: Record<string, string>;
  /** Parsed urlencoded body; `client_assertion` and `client_secret` redacted. */
  form?: Record<string, string>;
  /** Parsed JSON body (issuecredential); `csr` kept, `attestation_token` redacted. */
  json?: unknown;
  clientCertificateX5tS256?: string;
}

/**
 * Counters and recent requests.
 *
 * @public
 * @example
 * ```ts
 * const { requests, handshakes }: EmulatorStats = emu.stats();
 * expect(requests.mtlsToken).toBe(1);
 * expect(handshakes.mtls).toBe(1);
 * ```
 */
export interface EmulatorStats {
  requests: Record<EndpointName, number>;
  /** Completed TLS handshakes per HTTPS server. */
  handshakes: { authority: number; mtls: number; resource: number; serviceFabric: number };
  /** The last 200 requests, oldest first. */
  recent: RecordedRequest[];
}
