// What the workers measure and send back to run.ts.
import type { CacheHitStats } from "./cache-hit";

/** The flows both libraries are compared on (PoP ones exist in certbound only). */
export type FlowId = "ccBearer" | "ccPop" | "miBearer" | "miPop";

export interface CacheHitResult extends CacheHitStats {
  /** Distinct cached tokens the lookups rotate over. */
  keys: number;
  /** How the cache was filled, and how long it took. */
  fill: { method: string; ms: number };
  /** The floor with as many keys, measured in the same rounds (certbound rows). */
  floorOpsPerSecond?: number;
}

/**
 * Cache hits as users write them (a fresh request object and scopes array per call), measured in
 * the same rounds as the reused-object rows and the floors.
 */
export interface FreshHitResult {
  /** 1 cached key, fresh request object per call. */
  one: CacheHitStats;
  /** MANY cached keys, visited in random order, fresh request object per call. */
  many: CacheHitStats;
  /** The Credential method, `getToken([scope], { mtlsProofOfPossession })`, 1 key, fresh arguments. */
  getToken: CacheHitStats;
  keys: number;
  floorOneOpsPerSecond: number;
  /** The floor over as many keys in the same random order. */
  floorManyRandomOpsPerSecond: number;
  /** The token-shaped floor (`tokenFloorOperation`), 1 key and as many keys in the same random order. */
  tokenFloorOneOpsPerSecond?: number;
  tokenFloorManyRandomOpsPerSecond?: number;
}

/** The managed-identity PoP first call after creating a client, with and without a pause first. */
export interface FirstCallResult {
  runs: number;
  /** Median ms of the first acquireToken, called right after creation. */
  noGapMs: number;
  /** Median ms of the first acquireToken, called 200 ms after creation. */
  gap200Ms: number;
}

/** ResourceCaller + http-undici against a bare undici Agent, interleaved rounds (resource-ab.ts). */
export interface ResourceAbResult {
  inFlight: number;
  undiciUsPerCall: number;
  certboundUsPerCall: number;
  ratio: number;
  undiciCpuUsPerCall: number;
  certboundCpuUsPerCall: number;
  cpuRatio: number;
  undiciHandshakes: number;
  certboundHandshakes: number;
}

export interface StampedeResult {
  callers: number;
  wallMs: number;
  /** Distinct access tokens handed to the callers (1 when they all shared one acquisition). */
  distinctTokens: number;
  /** Callers whose acquisition failed, with the first error message. */
  failedCallers: number;
  firstError?: string;
  /** Per-endpoint requests the emulator counted, non-zero ones only. */
  requests: Record<string, number>;
  tokenRequests: number;
  discoveryRequests: number;
  imdsV2Requests: number;
}

export interface ResourceCallResult {
  transport: string;
  mode: "sequential" | "concurrent";
  calls: number;
  inFlight: number;
  wallMs: number;
  callsPerSecond: number;
  /** TLS handshakes the resource server completed. */
  handshakes: number;
  resourceRequests: number;
}

export interface ColdStartResult {
  runs: number;
  /** Medians over the runs, in ms. */
  medianMs: {
    platformMetadata: number;
    keyGeneration: number;
    csr: number;
    issueCredential: number;
    certificate: number;
    token: number;
    other: number;
    total: number;
  };
  /** `buildCsr` timed on its own with an existing key (median, ms). */
  buildCsrAloneMs: number;
}

export interface MemoryResult {
  entries: number;
  heapGrowthBytes: number;
  bytesPerEntry: number;
  /** Length of one access token (the irreducible part of an entry: 2 bytes per char at worst). */
  tokenChars: number;
  method: string;
}

export interface LibraryResult {
  cacheHits: Partial<Record<FlowId, { one: CacheHitResult; many: CacheHitResult }>>;
  stampede: Partial<Record<FlowId, StampedeResult>>;
  memory: Partial<Record<FlowId, MemoryResult>>;
}

export interface CertboundResult extends LibraryResult {
  floor: { one: CacheHitStats; many: CacheHitStats };
  coreTokenManager: { one: CacheHitStats; many: CacheHitStats };
  resourceCalls: ResourceCallResult[];
  coldStart: ColdStartResult;
  fresh: Partial<Record<FlowId, FreshHitResult>>;
  firstCall: FirstCallResult;
  resourceAb: ResourceAbResult[];
}

export type MsalResult = LibraryResult;
