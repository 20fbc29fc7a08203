export type { BindingCertificatePolicyOptions } from "./binding-certificate-policy";
export { bindingCertificatePolicyName, createBindingCertificatePolicy } from "./binding-certificate-policy";
export type { CertboundClientOptions } from "./client-options";
export { certboundClientOptions } from "./client-options";
export type { CertboundTokenCredential, CertboundTokenCredentialOptions } from "./token-credential";
export { createCertboundTokenCredential } from "./token-credential";
