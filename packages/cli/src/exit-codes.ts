import { isCertboundError } from "@certbound/core";
import { CliError } from "./cli-error";

/**
 * The exit codes of `certbound`, one per class of failure, so a script can tell a typo from an
 * outage: `0` ok, `1` a bug in certbound, `2` usage, `3` authentication, `4` network, `5`
 * validation, `6` a `doctor` check failed, `7` the resource answered `call` with an error status.
 *
 * @example
 * ```ts
 * import { EXIT_CODES } from "@certbound/cli";
 * if (child.exitCode === EXIT_CODES.network) retryLater();
 * ```
 *
 * @public
 */
export const EXIT_CODES = Object.freeze({
  ok: 0,
  internal: 1,
  usage: 2,
  authentication: 3,
  network: 4,
  validation: 5,
  doctorFailed: 6,
  httpError: 7,
} as const);

/**
 * One of the {@link EXIT_CODES} classes.
 *
 * @example
 * ```ts
 * const kind: ExitClass = "network";
 * console.log(EXIT_CODES[kind]); // 4
 * ```
 *
 * @public
 */
export type ExitClass = keyof typeof EXIT_CODES;

const CLASS_OF_CODE: Readonly<Record<string, ExitClass>> = {
  // Configuration and command-line mistakes.
  invalid_options: "usage",
  missing_tenanted_authority: "usage",
  usage: "usage",
  file_unreadable: "usage",
  // The identity provider, IMDS or the resource said no.
  service_error: "authentication",
  managed_identity_request_failed: "authentication",
  managed_identity_unsupported_identity: "authentication",
  managed_identity_attestation_required: "authentication",
  attestation_failed: "authentication",
  mtls_pop_not_supported_for_environment: "authentication",
  mtls_pop_token_not_supported_in_imds_v1: "authentication",
  mtls_certificate_not_provided: "authentication",
  binding_certificate_missing: "authentication",
  binding_certificate_mismatch: "authentication",
  resource_unauthorized: "authentication",
  // Nothing (usable) came back over the wire.
  network_error: "network",
  tls_handshake_failed: "network",
  timeout: "network",
  aborted: "network",
  response_too_large: "network",
  throttled: "network",
  // Something was read and is wrong: a certificate, a key, a token, a response.
  invalid_certificate: "validation",
  invalid_private_key: "validation",
  wrong_passphrase: "validation",
  certificate_expired: "validation",
  certificate_not_yet_valid: "validation",
  cert_without_private_key: "validation",
  invalid_token_response: "validation",
  managed_identity_response_parse_failure: "validation",
  token_type_missing: "validation",
  token_type_mismatch: "validation",
  pop_validation_failed: "validation",
  invalid_jwt: "validation",
  // `call`: the resource answered 4xx/5xx (other than 401/403).
  http_error: "httpError",
};

/** The error's code: a certbound code, or `internal` for anything else (a bug). */
export function errorCode(error: unknown): string {
  if (error instanceof CliError || isCertboundError(error)) return error.code;
  return "internal";
}

/** The exit code for an error, by the class of its certbound code. */
export function exitCodeFor(error: unknown): number {
  return EXIT_CODES[CLASS_OF_CODE[errorCode(error)] ?? "internal"];
}
