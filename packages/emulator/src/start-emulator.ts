import { createPublicKey, generateKeyPair, type KeyObject, randomBytes, randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { createCertificateAuthority, invalidOptions } from "@certbound/core/credential-kit";
import { openArcTokenFolder } from "./arc-token-folder";
import { AttestationService } from "./attestation";
import { authorityRouter } from "./authority-routes";
import type { EmulatorContext, EmulatorUrls } from "./context";
import { FaultQueue } from "./faults";
import { IdentityRegistry } from "./identities";
import { ATTESTATION_PATH, imdsRouter } from "./imds-routes";
import { INSPECTOR_PATH, inspectorInterceptor } from "./inspector/http";
import { Inspector } from "./inspector/inspector";
import { KeyVaultSecrets, keyVaultRouter } from "./keyvault-routes";
import { mtlsRouter } from "./mtls-routes";
import { resourceRouter } from "./resource-routes";
import { createSelfSignedServerCertificate } from "./self-signed";
import { Lifecycle, type RunningServer, type ServerDeps, startServer } from "./servers";
import { SERVICE_FABRIC_PATH, SOURCE_PATHS, serviceFabricRouter, sourcesRouter } from "./source-routes";
import { StatsRecorder } from "./stats";
import { TokenIssuer } from "./token-issuer";
import type { Emulator, EmulatorOptions, ManagedIdentitySourceName } from "./types";

const PKG = "@certbound/emulator";
const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * Starts a local Microsoft Entra ID (regular and mTLS hosts), IMDS (v1 and v2), the other
 * managed-identity sources and an mTLS-protected resource, over real TLS on 127.0.0.1. It speaks
 * and enforces the wire protocol, so a client bug fails here as it would against Entra.
 *
 * @public
 * @example
 * ```ts
 * const emu = await startEmulator();
 * emu.registerConfidentialClient({ clientId: "my-app", certificatePem });
 * // ... point a client at emu.authorityHost / emu.mtlsAuthorityHost, trust emu.caCertificatePem ...
 * await emu.close();
 * ```
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const settings = validate(options);
  const now = options.now ?? Date.now;
  const host = settings.host;

  // Each emulator's certificates get distinct names: OpenSSL looks issuers up by subject, so two
  // emulators trusted at once (both CAs in NODE_EXTRA_CA_CERTS) must not share one.
  const instance = randomBytes(4).toString("hex");
  const serverCa = createCertificateAuthority({ commonName: `certbound emulator CA ${instance}` });
  const serverCertificate = serverCa.issue({
    commonName: "localhost",
    subjectAltNames: [...new Set(["localhost", "127.0.0.1", host])],
    usage: "server",
  });
  const managedIdentityCa = createCertificateAuthority({
    commonName: `certbound emulator managed identity CA ${instance}`,
  });
  const serviceFabricCertificate = createSelfSignedServerCertificate(
    `certbound emulator Service Fabric ${instance}`,
  );
  const signingKey =
    options.signingKey ?? (await generateKeyPairAsync("rsa", { modulusLength: 2048 })).privateKey;
  if (signingKey.asymmetricKeyType !== "rsa" || signingKey.type !== "private") {
    throw invalidOptions(PKG, "`signingKey` must be an RSA private key (access tokens are RS256).");
  }
  const signingCertificate = serverCa.issue({
    commonName: "certbound emulator token signing",
    publicKey: createPublicKey(signingKey),
    notAfter: new Date(Date.now() + 365 * 86400_000),
  }).certificate;

  const urls: EmulatorUrls = {
    imds: "",
    authority: "",
    mtls: "",
    resource: "",
    sources: "",
    serviceFabric: "",
  };
  const registry = new IdentityRegistry(settings.tenantId);
  const arcTokenFolder = await openArcTokenFolder(options.arcTokenFolder);
  const ctx: EmulatorContext = {
    now,
    registry,
    issuer: new TokenIssuer({
      signingKey: signingKey as KeyObject,
      certificate: signingCertificate,
      issuer: (tenantId) => `${urls.authority}/${tenantId}/v2.0`,
      lifetimeSeconds: settings.tokenLifetimeSeconds,
      now,
    }),
    managedIdentityCa,
    attestation: new AttestationService(now, () => `${urls.imds}${ATTESTATION_PATH}`),
    urls,
    settings: {
      tokenLifetimeSeconds: settings.tokenLifetimeSeconds,
      issuedCertificateLifetimeSeconds: settings.issuedCertificateLifetimeSeconds,
      imdsV2: options.imdsV2 ?? true,
      requireAttestation: options.requireAttestation ?? false,
      location: options.location ?? "westus3",
      vmId: randomUUID(),
      vmssId: options.vmssId,
      resourceAcceptsBearer: options.resourceAcceptsBearer ?? true,
      resourceAudiences: () => options.resourceAudiences ?? [urls.resource],
      rejectReplayedAssertions: options.rejectReplayedAssertions ?? false,
      azureArcAgent: options.azureArcAgent ?? "current",
    },
    secrets: {
      appService: randomBytes(16).toString("hex"),
      serviceFabric: randomBytes(16).toString("hex"),
      machineLearning: randomBytes(16).toString("hex"),
    },
    arcKeys: new Map(),
    arcTokenFolder,
    usedAssertions: new Map(),
  };

  const vault = new KeyVaultSecrets(ctx);
  const vaultRoutes = keyVaultRouter(ctx, vault);
  const resourceRoutes = resourceRouter(ctx);
  const stats = new StatsRecorder();
  const faults = new FaultQueue();
  const lifecycle = new Lifecycle();
  // The inspector is opt-in for the library (tests seldom want a page); the CLI turns it on.
  const inspector = options.inspector ? new Inspector({ now, faults, registry }) : undefined;
  const deps: ServerDeps = {
    stats,
    faults,
    lifecycle,
    observe: inspector && ((event) => inspector.observe(event)),
  };
  let authorityPort = 0;
  const ports = options.ports ?? {};
  const tls = (name: "authority" | "mtls" | "resource", requestCert: boolean) => ({
    certificatePem: serverCertificate.certificatePem,
    keyPem: serverCertificate.keyPem,
    requestCert,
    name,
  });
  const settled = await Promise.allSettled([
    startServer({ host, port: ports.imds ?? 0, router: imdsRouter(ctx), label: "IMDS" }, deps),
    startServer(
      {
        host,
        port: ports.authority ?? 0,
        router: authorityRouter(ctx),
        tls: tls("authority", false),
        label: "authority",
        intercept: inspector && inspectorInterceptor(inspector, () => authorityPort),
      },
      deps,
    ),
    startServer(
      {
        host,
        port: ports.mtls ?? 0,
        router: mtlsRouter(ctx),
        tls: tls("mtls", true),
        label: "mTLS authority",
      },
      deps,
    ),
    startServer(
      {
        host,
        port: ports.resource ?? 0,
        // Key Vault's secrets surface first; every other path is the generic resource.
        router: (exchange) => vaultRoutes(exchange) ?? resourceRoutes(exchange),
        tls: tls("resource", true),
        label: "resource",
      },
      deps,
    ),
    startServer(
      {
        host,
        port: ports.managedIdentitySources ?? 0,
        router: sourcesRouter(ctx),
        label: "managed-identity sources",
      },
      deps,
    ),
    startServer(
      {
        host,
        port: ports.serviceFabric ?? 0,
        router: serviceFabricRouter(ctx),
        tls: {
          certificatePem: serviceFabricCertificate.certificatePem,
          keyPem: serviceFabricCertificate.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
          requestCert: false,
          name: "serviceFabric",
        },
        label: "Service Fabric",
      },
      deps,
    ),
  ]);
  const servers = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure) {
    await Promise.all(servers.map((s) => s.close()));
    await arcTokenFolder.close();
    throw failure.reason;
  }
  const [imds, authority, mtls, resource, sources, serviceFabric] = servers as [
    RunningServer,
    RunningServer,
    RunningServer,
    RunningServer,
    RunningServer,
    RunningServer,
  ];
  authorityPort = authority.port;
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  urls.imds = `http://${hostInUrl}:${imds.port}`;
  urls.authority = `https://${hostInUrl}:${authority.port}`;
  urls.mtls = `https://${hostInUrl}:${mtls.port}`;
  urls.resource = `https://${hostInUrl}:${resource.port}`;
  urls.sources = `http://${hostInUrl}:${sources.port}`;
  urls.serviceFabric = `https://${hostInUrl}:${serviceFabric.port}`;

  let closing: Promise<void> | undefined;
  const environments: Record<ManagedIdentitySourceName, () => Record<string, string>> = {
    imds: () => ({ AZURE_POD_IDENTITY_AUTHORITY_HOST: urls.imds }),
    appService: () => ({
      IDENTITY_ENDPOINT: `${urls.sources}${SOURCE_PATHS.appService}`,
      IDENTITY_HEADER: ctx.secrets.appService,
    }),
    serviceFabric: () => ({
      IDENTITY_ENDPOINT: `${urls.serviceFabric}${SERVICE_FABRIC_PATH}`,
      IDENTITY_HEADER: ctx.secrets.serviceFabric,
      IDENTITY_SERVER_THUMBPRINT: serviceFabricCertificate.sha1Thumbprint,
    }),
    azureArc: () => ({
      IDENTITY_ENDPOINT: `${urls.sources}${SOURCE_PATHS.azureArc}`,
      IMDS_ENDPOINT: urls.sources,
    }),
    cloudShell: () => ({ MSI_ENDPOINT: `${urls.sources}${SOURCE_PATHS.cloudShell}` }),
    machineLearning: () => ({
      MSI_ENDPOINT: `${urls.sources}${SOURCE_PATHS.machineLearning}`,
      MSI_SECRET: ctx.secrets.machineLearning,
      DEFAULT_IDENTITY_CLIENT_ID: registry.system.clientId,
    }),
  };

  return {
    imdsEndpoint: urls.imds,
    authorityHost: urls.authority,
    mtlsAuthorityHost: urls.mtls,
    resourceUrl: urls.resource,
    tenantId: settings.tenantId,
    caCertificatePem: serverCa.certificatePem,
    managedIdentityCaPem: managedIdentityCa.certificatePem,
    attestationEndpoint: `${urls.imds}${ATTESTATION_PATH}`,
    serviceFabricCertificatePem: serviceFabricCertificate.certificatePem,
    systemAssignedIdentity: {
      clientId: registry.system.clientId,
      objectId: registry.system.objectId,
      resourceId: registry.system.resourceId,
    },
    arcTokenFolder: arcTokenFolder.path,
    inspectorUrl: inspector && `${inspectorOrigin(host, authority.port)}${INSPECTOR_PATH}`,
    registerConfidentialClient: (o) => {
      registry.registerClient(o);
      inspector?.stateChanged();
    },
    registerManagedIdentity: (o) => {
      const identity = registry.registerManagedIdentity(o);
      inspector?.stateChanged();
      return identity;
    },
    managedIdentityEnvironment(source) {
      const environment = environments[source];
      if (!environment) {
        throw invalidOptions(
          PKG,
          `Unknown managed-identity source "${String(source)}". Use one of: ${Object.keys(environments).join(", ")}.`,
        );
      }
      return environment();
    },
    setKeyVaultSecret: (secret) => vault.set(secret),
    injectFault: (endpoint, fault) => {
      faults.add(endpoint, fault);
      inspector?.stateChanged();
    },
    clearFaults: () => {
      faults.clear();
      inspector?.stateChanged();
    },
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    close() {
      closing ??= (async () => {
        lifecycle.close();
        inspector?.close();
        await Promise.all([imds, authority, mtls, resource, sources, serviceFabric].map((s) => s.close()));
        await arcTokenFolder.close();
        // libuv releases closed server handles at the end of this loop turn: resolve after it, so
        // nothing of the emulator is left once close() has resolved.
        await new Promise<void>((resolve) => setImmediate(resolve));
      })();
      return closing;
    },
  };
}

// The page is served only on loopback: a wildcard or other listen address still shows it at 127.0.0.1.
function inspectorOrigin(host: string, port: number): string {
  if (host === "::1") return `https://[::1]:${port}`;
  return host === "localhost" || host.startsWith("127.")
    ? `https://${host}:${port}`
    : `https://127.0.0.1:${port}`;
}

function validate(options: EmulatorOptions) {
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value <= 0)
      throw invalidOptions(PKG, `\`${name}\` must be a positive number of seconds.`);
    return Math.floor(value);
  };
  for (const [name, port] of Object.entries(options.ports ?? {})) {
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
      throw invalidOptions(PKG, `\`ports.${name}\` must be an integer between 0 and 65535 (0 = ephemeral).`);
    }
  }
  if (options.tenantId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(options.tenantId)) {
    throw invalidOptions(PKG, "`tenantId` must be a tenant id such as a GUID.");
  }
  if (options.tenantId && ["common", "organizations", "consumers"].includes(options.tenantId.toLowerCase())) {
    throw invalidOptions(PKG, "`tenantId` must be a specific tenant, not common/organizations/consumers.");
  }
  if (options.requireAttestation !== undefined && typeof options.requireAttestation !== "boolean") {
    throw invalidOptions(PKG, "`requireAttestation` must be a boolean.");
  }
  if (options.azureArcAgent !== undefined && !["current", "legacy"].includes(options.azureArcAgent)) {
    throw invalidOptions(PKG, '`azureArcAgent` must be "current" or "legacy".');
  }
  if (
    options.arcTokenFolder !== undefined &&
    (typeof options.arcTokenFolder !== "string" || options.arcTokenFolder === "")
  ) {
    throw invalidOptions(PKG, '`arcTokenFolder` must be a folder path or "temporary".');
  }
  if (options.now !== undefined && typeof options.now !== "function") {
    throw invalidOptions(PKG, "`now` must be a function returning epoch milliseconds.");
  }
  return {
    host: options.host ?? "127.0.0.1",
    tenantId: options.tenantId ?? randomUUID(),
    tokenLifetimeSeconds: positive("tokenLifetimeSeconds", options.tokenLifetimeSeconds, 3600),
    issuedCertificateLifetimeSeconds: positive(
      "issuedCertificateLifetimeSeconds",
      options.issuedCertificateLifetimeSeconds,
      7 * 86400,
    ),
  };
}
