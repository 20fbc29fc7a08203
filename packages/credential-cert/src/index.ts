export type { ParsedAuthority } from "./authority";
export { parseAuthority } from "./authority";
export type {
  CertificateInput,
  CertificateProvider,
  KeyObjectCertificateInput,
  PemCertificateInput,
  PfxCertificateInput,
} from "./certificate-input";
export type { AssertionAlgorithm, ClientAssertionOptions } from "./client-assertion";
export { ASSERTION_LIFETIME_SECONDS, createClientAssertion } from "./client-assertion";
export type { ConfidentialClient } from "./confidential-client";
export { createConfidentialClient } from "./confidential-client";
export type { LoadedCertificate } from "./load-certificate";
export { loadCertificate } from "./load-certificate";
export type { AcquireTokenForClientRequest, ConfidentialClientOptions } from "./options";
export type { PfxContents, ReadPfxOptions } from "./pfx";
export { readPfx } from "./pfx";
export type { DetectedRegion, DetectRegionOptions, RegionSource } from "./region";
export { detectRegion, IMDS_COMPUTE_PATH } from "./region";
export { isValidRegionName } from "./region-name";
export type { TokenEndpointInput } from "./token-endpoints";
export { bearerTokenEndpoint, mtlsTokenEndpoint } from "./token-endpoints";
