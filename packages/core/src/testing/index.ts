export * as asn1 from "../asn1-der";
export type {
  CertificateAuthority,
  CertificateKeyType,
  CertificateRequest,
  IssuedCertificate,
} from "../certificate/authority";
export { createCertificateAuthority, generateKeyPair } from "../certificate/authority";
export { testCacheStore } from "./cache-store-conformance";
export type { TestClock } from "./test-clock";
export { createTestClock } from "./test-clock";
