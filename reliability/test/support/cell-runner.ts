// Runs one cell of the fault matrix against the emulator and reports what happened, in the shape
// of an Expectation, so a test compares the two with one `toEqual`.
import { createHash, type KeyObject, type X509Certificate } from "node:crypto";
import {
  type ClientTlsIdentity,
  isCertboundError,
  ResourceCaller,
  ServiceError,
  type TokenResult,
} from "@certbound/core";
import type { Fault } from "@certbound/emulator";
import type { IssuedCertificate } from "@certbound/testing";
import type { Cell, ColumnId, Expectation, Outcome, Target } from "./fault-matrix";
import type { HangDriver } from "./hang-driver";
import type { SourceName, World } from "./world";

/** What a cell run observed. */
export interface Observed extends Expectation {
  /** Requests the client sent without a timeout while the endpoint hung (must be 0). */
  readonly unboundedRequests: number;
}

/** A certificate with its key, as credential-cert takes it. */
export interface CertificateWithKey {
  readonly certificatePem: string;
  readonly privateKey: KeyObject;
}

/** How the client of a cell differs from the default one. */
interface Variant {
  /** Trust this CA instead of the emulator's (a TLS handshake failure). */
  ca?: string;
  /** The confidential client's certificate instead of the registered one. */
  certificate?: CertificateWithKey;
  /** A Service Fabric thumbprint that the server certificate does not have. */
  serviceFabricThumbprint?: string;
  /** Present this identity to the resource instead of the token's binding certificate. */
  clientIdentity?: ClientTlsIdentity;
  /** The endpoint hangs this many times: let the hang driver turn each into a timeout. */
  hangs?: number;
}

/** Everything a cell needs besides the world. */
export interface CellContext {
  readonly world: World;
  readonly transport: HangDriver;
  /** An mtls_pop token from credential-cert, for the resource cells. */
  readonly popToken: TokenResult;
  /** Spare certificates made once per file. */
  readonly spare: {
    /** EC, signed by the app CA but never registered, and already expired. */
    readonly expiredApp: CertificateWithKey;
    /** RSA (the MSI key), signed by the app CA but never registered with the emulator. */
    readonly unregisteredApp: CertificateWithKey;
    /** EC, signed by a CA nobody trusts. */
    readonly stranger: IssuedCertificate;
  };
}

const SOURCE_OF: Partial<Record<Target["id"], SourceName>> = {
  "imds-v1": "imds",
  "app-service": "appService",
  "service-fabric": "serviceFabric",
  "azure-arc": "azureArc",
  "cloud-shell": "cloudShell",
  "machine-learning": "machineLearning",
};

const OVER_CAP = `{"padding":"${"x".repeat(1024 * 1024)}"}`;
const PERSISTENT = Number.POSITIVE_INFINITY;

/** A well-formed 200 body of the endpoint, which the body faults then damage. */
function validBody(target: Target, ctx: CellContext, now: number): Record<string, unknown> {
  const { emu } = ctx.world;
  switch (target.policy) {
    case "token":
      return {
        token_type: target.id === "cert-bearer" ? "Bearer" : "mtls_pop",
        access_token: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyZWxpYWJpbGl0eSJ9.",
        expires_in: 3599,
        ext_expires_in: 3599,
      };
    case "imds":
      if (target.id === "msi-pop-platformmetadata") {
        return {
          clientId: emu.systemAssignedIdentity.clientId,
          tenantId: emu.tenantId,
          cuId: { vmId: "reliability-vm" },
          attestationEndpoint: `${emu.imdsEndpoint}/attestation`,
        };
      }
      if (target.id === "msi-pop-issuecredential") {
        return issuedCredential(ctx, issueFor(ctx, { notAfter: new Date(now + 7 * 86400_000) }));
      }
      return bearerBody(emu.resourceUrl, now);
    case "source":
      return bearerBody(ctx.world.emu.resourceUrl, now);
    case "none":
      return { subject: "reliability", tokenType: "mtls_pop" };
  }
}

function bearerBody(resource: string, now: number): Record<string, unknown> {
  return {
    access_token: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyZWxpYWJpbGl0eS1taSJ9.",
    expires_on: String(Math.floor(now / 1000) + 3600),
    expires_in: "3600",
    token_type: "Bearer",
    resource,
  };
}

/** A certificate for the managed-identity key, as issuecredential would return it. */
function issueFor(
  ctx: CellContext,
  o: { notAfter: Date; notBefore?: Date; foreignKey?: boolean; issuer?: "app" | "foreign" },
): X509Certificate {
  const { world } = ctx;
  const ca = o.issuer === "app" ? world.appCa : world.foreignCa;
  return ca.issue({
    commonName: world.emu.systemAssignedIdentity.clientId,
    subjectPrefix: [["0.9.2342.19200300.100.1.25", world.emu.tenantId]],
    ...(o.foreignKey ? {} : { publicKey: world.msiKey.publicKey }),
    notAfter: o.notAfter,
    ...(o.notBefore ? { notBefore: o.notBefore } : {}),
  }).certificate;
}

function issuedCredential(ctx: CellContext, certificate: X509Certificate): Record<string, unknown> {
  const { emu } = ctx.world;
  return {
    client_id: emu.systemAssignedIdentity.clientId,
    tenant_id: emu.tenantId,
    certificate: certificate.raw.toString("base64"),
    identity_type: "SystemAssigned",
    mtls_authentication_endpoint: emu.mtlsAuthorityHost,
  };
}

/** Injects the column's fault (or prepares the client variant) for this target. */
function prepare(target: Target, column: ColumnId, ctx: CellContext, now: number): Variant {
  const { emu } = ctx.world;
  const inject = (fault: Fault) => {
    // Azure Arc: let the challenge through, so the fault hits the request that answers it.
    if (target.before > 0) emu.injectFault(target.endpoint, { headers: {}, count: target.before });
    emu.injectFault(target.endpoint, fault);
  };
  const persistent = (status: number, headers?: Record<string, string>) =>
    inject({ status, count: PERSISTENT, ...(headers ? { headers } : {}) });
  const body = (text: string) => inject({ status: 200, body: text, count: PERSISTENT });
  const valid = validBody(target, ctx, now);
  const without = (...names: string[]) =>
    JSON.stringify(Object.fromEntries(Object.entries(valid).filter(([name]) => !names.includes(name))));

  switch (column) {
    case "429-retry-after-seconds":
      persistent(429, { "retry-after": "3" });
      return {};
    case "429-retry-after-date":
      persistent(429, { "retry-after": new Date(now + 5000).toUTCString() });
      return {};
    case "503-retry-after":
      persistent(503, { "retry-after": "2" });
      return {};
    case "503-once":
      inject({ status: 503, count: 1 });
      return {};
    case "410-once":
      inject({ status: 410, count: 1 });
      return {};
    case "malformed-json":
      body('{"access_token": "abc", "token_type": oops}');
      return {};
    case "truncated-body": {
      const full = JSON.stringify(valid);
      body(full.slice(0, Math.floor(full.length / 2)));
      return {};
    }
    case "empty-body":
      body("");
      return {};
    case "body-over-cap":
      body(OVER_CAP);
      return {};
    case "hang":
      inject({ hang: true, count: PERSISTENT });
      return { hangs: PERSISTENT };
    case "hang-once":
      inject({ hang: true, count: 1 });
      return { hangs: 1 };
    case "reset":
      inject({ reset: true, count: PERSISTENT });
      return {};
    case "reset-once":
      inject({ reset: true, count: 1 });
      return {};
    case "tls-handshake":
      if (target.id === "service-fabric") {
        // The pinned thumbprint of another certificate: the server's is refused.
        const other = createHash("sha1").update(ctx.spare.stranger.certificate.raw).digest("hex");
        return { serviceFabricThumbprint: other.toUpperCase() };
      }
      return { ca: ctx.world.foreignCa.certificatePem };
    case "wrong-token-type":
      body(JSON.stringify({ ...valid, token_type: valid.token_type === "Bearer" ? "mtls_pop" : "Bearer" }));
      return {};
    case "missing-access-token":
      body(without("access_token"));
      return {};
    case "missing-expiry":
      body(without("expires_in", "expires_on", "ext_expires_in"));
      return {};
    case "missing-required-field":
      body(
        target.id === "msi-pop-platformmetadata" ? without("cuId") : without("mtls_authentication_endpoint"),
      );
      return {};
    case "not-from-imds":
      inject({ headers: { server: "nginx/1.25.3" }, count: PERSISTENT });
      return {};
    case "expired-certificate":
      // The resource cell runs its clock 2 h late instead (see clockOffset).
      if (target.id === "resource") return {};
      if (target.id === "msi-pop-issuecredential") {
        const expired = issueFor(ctx, {
          notBefore: new Date(now - 10 * 86400_000),
          notAfter: new Date(now - 86400_000),
        });
        body(JSON.stringify(issuedCredential(ctx, expired)));
        return {};
      }
      return { certificate: ctx.spare.expiredApp };
    case "mismatched-certificate":
      if (target.id === "resource") return { clientIdentity: ctx.spare.stranger };
      if (target.id === "msi-pop-issuecredential") {
        // A certificate for another key than the one in the certificate request.
        body(
          JSON.stringify(
            issuedCredential(
              ctx,
              issueFor(ctx, { notAfter: new Date(now + 86400_000 * 7), foreignKey: true }),
            ),
          ),
        );
        return {};
      }
      if (target.id === "msi-pop-token") {
        // IMDS hands out a certificate for the right key from the wrong CA: Entra answers
        // invalid_client, the client must drop it and mint again (protocol.md section 3.7).
        emu.injectFault("issueCredential", {
          status: 200,
          body: JSON.stringify(
            issuedCredential(ctx, issueFor(ctx, { notAfter: new Date(now + 7 * 86400_000) })),
          ),
          count: 1,
        });
        return {};
      }
      return { certificate: ctx.spare.unregisteredApp };
    default: {
      const status = Number(column);
      if (!Number.isInteger(status)) throw new Error(`reliability: no fault for column ${column}`);
      persistent(status);
      return {};
    }
  }
}

async function act(target: Target, variant: Variant, ctx: CellContext): Promise<Outcome> {
  const { world, transport } = ctx;
  const { emu } = world;
  const scope = `${emu.resourceUrl}/.default`;
  if (target.id === "resource") {
    const caller = new ResourceCaller({ transport, ca: variant.ca ?? emu.caCertificatePem });
    const response = await caller.call(ctx.popToken, `${emu.resourceUrl}/reliability`, {
      ...(variant.clientIdentity ? { clientIdentity: variant.clientIdentity } : {}),
    });
    return { kind: "response", status: response.status };
  }
  if (target.id === "cert-pop" || target.id === "cert-bearer") {
    const client = world.certClient({
      transport,
      ...(variant.ca ? { ca: variant.ca } : {}),
      ...(variant.certificate ? { certificate: variant.certificate } : {}),
    });
    try {
      const result = await client.acquireTokenForClient({
        scopes: [scope],
        mtlsProofOfPossession: target.id === "cert-pop",
      });
      return { kind: "token", tokenType: result.tokenType };
    } finally {
      client.close();
    }
  }
  const source = SOURCE_OF[target.id] ?? "imds";
  const env = emu.managedIdentityEnvironment(source);
  if (variant.serviceFabricThumbprint) env.IDENTITY_SERVER_THUMBPRINT = variant.serviceFabricThumbprint;
  const client = world.msiClient(source, { transport, env, ...(variant.ca ? { ca: variant.ca } : {}) });
  try {
    const result = await client.acquireToken({
      resource: emu.resourceUrl,
      mtlsProofOfPossession: target.id.startsWith("msi-pop"),
    });
    return { kind: "token", tokenType: result.tokenType };
  } finally {
    client.close();
  }
}

function outcomeOf(error: unknown): Outcome {
  if (!isCertboundError(error)) {
    // Not a typed error: report it so the comparison fails with the real thing in view.
    throw error;
  }
  return error instanceof ServiceError &&
    error.code !== "binding_certificate_mismatch" &&
    error.code !== "resource_unauthorized"
    ? { kind: "error", code: error.code, status: error.status }
    : { kind: "error", code: error.code };
}

/** Runs a cell; the world's emulator is reset first. */
export async function runCell(
  cell: Extract<Cell, { expected: Expectation }>,
  ctx: CellContext,
): Promise<Observed> {
  const { world, transport } = ctx;
  const { emu } = world;
  emu.clearFaults();
  emu.resetStats();
  transport.reset();
  const clock = world.freshClock(clockOffset(cell));
  const variant = prepare(cell.target, cell.column.id, ctx, clock.now());
  if (variant.hangs !== undefined) {
    transport.arm(cell.target.endpoint, { skip: cell.target.before, times: variant.hangs });
  }
  let outcome: Outcome;
  try {
    outcome = await act(cell.target, variant, ctx);
  } catch (error) {
    outcome = outcomeOf(error);
  }
  const unboundedRequests = transport.unbounded;
  transport.reset();
  const counts = emu.stats().requests;
  const requests = Object.fromEntries(cell.target.flow.map((endpoint) => [endpoint, counts[endpoint]]));
  return { outcome, sleeps: [...clock.sleeps], requests, unboundedRequests };
}

// The resource's expired-token cell runs 2 h after the token was issued; every other cell now.
function clockOffset(cell: Cell): number {
  return cell.target.id === "resource" && cell.column.id === "expired-certificate" ? 2 * 3600_000 : 0;
}
