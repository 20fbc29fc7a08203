export type { AttestationProvider, AttestationRequest } from "./attestation";
export type { ComputeUnitId, CsrInput } from "./csr";
export { buildCsr } from "./csr";
export type { ManagedIdentitySourceName } from "./detect-source";
export type { KeyProvider, ManagedIdentityKeyPair } from "./key-provider";
export { createInMemoryKeyProvider } from "./key-provider";
export type {
  ManagedIdentityClient,
  ManagedIdentitySourceInfo,
  ManagedIdentityTokenRequest,
} from "./managed-identity-client";
export { createManagedIdentityClient } from "./managed-identity-client";
export type { ManagedIdentityClientOptions } from "./options";
export { DEFAULT_IMDS_ENDPOINT } from "./options";
