import type { CertificateAuthority } from "@certbound/core/credential-kit";
import type { ArcTokenFolder } from "./arc-token-folder";
import type { AttestationService } from "./attestation";
import type { Exchange, Reply } from "./exchange";
import type { IdentityRegistry } from "./identities";
import type { TokenIssuer } from "./token-issuer";
import type { EndpointName } from "./types";

/** Base URLs of the emulator's servers, known once they listen. */
export interface EmulatorUrls {
  imds: string;
  authority: string;
  mtls: string;
  resource: string;
  sources: string;
  serviceFabric: string;
}

/** Everything a route needs: the directory, the token issuer, the CAs, settings and the clock. */
export interface EmulatorContext {
  readonly now: () => number;
  readonly registry: IdentityRegistry;
  readonly issuer: TokenIssuer;
  readonly managedIdentityCa: CertificateAuthority;
  /** Issues and checks the attestation tokens of IMDS v2 certificate requests. */
  readonly attestation: AttestationService;
  readonly urls: EmulatorUrls;
  readonly settings: {
    readonly tokenLifetimeSeconds: number;
    readonly issuedCertificateLifetimeSeconds: number;
    readonly imdsV2: boolean;
    /** issuecredential refuses a request without a valid attestation token. */
    readonly requireAttestation: boolean;
    readonly location: string;
    readonly vmId: string;
    readonly vmssId: string | undefined;
    readonly resourceAcceptsBearer: boolean;
    readonly resourceAudiences: () => readonly string[];
    readonly rejectReplayedAssertions: boolean;
    readonly azureArcAgent: "current" | "legacy";
  };
  /** Secrets the App Service, Service Fabric and Machine Learning endpoints expect. */
  readonly secrets: {
    readonly appService: string;
    readonly serviceFabric: string;
    readonly machineLearning: string;
  };
  /** Issued Azure Arc challenge keys (file path -> content), each accepted once. */
  readonly arcKeys: Map<string, string>;
  readonly arcTokenFolder: ArcTokenFolder;
  /** Client assertion ids already used (client id + jti -> expiry, epoch ms). */
  readonly usedAssertions: Map<string, number>;
}

/** The handling of one request by one endpoint. */
export interface Route {
  readonly endpoint: EndpointName;
  handle(): Reply | Promise<Reply>;
  /** The endpoint's error body for an injected fault without a body. */
  faultReply(status: number): Reply;
}

/** Picks the route for a request; `undefined` for a path the server does not serve. */
export type Router = (exchange: Exchange) => Route | undefined;
