export type { TokenValidationCode } from "./errors";
export { isTokenValidationError, TokenValidationError } from "./errors";
export type { ForwardedCertificateFormat, ForwardedCertificateOptions } from "./forwarded-certificate";
export { createNodeAuthenticator, writeRejection } from "./node-http";
export type { TokenValidatorOptions } from "./options";
export type {
  EntraAccessTokenClaims,
  TokenValidator,
  ValidatedToken,
  ValidationInput,
} from "./token-validator";
export { createTokenValidator } from "./token-validator";
