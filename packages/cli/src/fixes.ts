// One line of advice per error code, printed under the error's own message. The library's
// messages already say what went wrong in this case; these say what to do about the class of it.
const FIXES: Readonly<Record<string, string>> = {
  usage: "Run `certbound <command> --help` for the options of each command.",
  file_unreadable: "Check the path and that this user may read the file.",
  invalid_jwt: "Pass a JWT (three base64url parts separated by dots), or `-` to read one from stdin.",
  invalid_options: "Check the options named above; `certbound <command> --help` lists them.",
  missing_tenanted_authority:
    "Pass `--tenant` with your tenant id or domain; common, organizations and consumers cannot issue app tokens.",
  service_error:
    "Read the AADSTS code above and compare the app registration (client id, certificate thumbprints from `certbound doctor --certificate`) with what you passed.",
  managed_identity_request_failed:
    "Run `certbound doctor` on this machine: it shows which managed-identity source answers and whether IMDS v2 is there.",
  managed_identity_unsupported_identity:
    "This source cannot select a user-assigned identity that way: use the identifier kind it supports, or the system-assigned identity.",
  managed_identity_attestation_required:
    "IMDS certifies only attested keys here: PoP tokens from managed identity need an attestation provider (see the @certbound/credential-msi README); use `--bearer` meanwhile.",
  attestation_failed: "Check that the attestation endpoint IMDS names is reachable from this machine.",
  mtls_pop_not_supported_for_environment:
    "mTLS PoP is not available from this source or authority: use `--bearer`, or for a confidential client an Entra ID authority whose host starts with `login.`.",
  mtls_pop_token_not_supported_in_imds_v1:
    "This VM only has IMDS v1 (no PoP): use `--bearer`, or run on a VM or scale set where IMDS v2 answers.",
  mtls_certificate_not_provided: "PoP needs a certificate: pass `--certificate`.",
  binding_certificate_missing:
    "Call with the token's own binding certificate: use `certbound call`, which keeps them together.",
  binding_certificate_mismatch:
    "The token is bound to another certificate than the one presented: get a new token with the certificate you call with.",
  resource_unauthorized:
    "Ask for a token for this resource (`--resource` or `--scope`), check it has not expired, and that the app has the resource's role.",
  network_error:
    "Check the address, DNS, firewall and proxy settings (`certbound doctor` lists proxies); `--ca` adds trust for a private CA.",
  tls_handshake_failed:
    "The server's certificate is not trusted or refused ours: pass the server's CA with `--ca <file>` (a private cloud or emulator), or check the client certificate.",
  timeout: "The endpoint did not answer in time: check connectivity, or raise `--timeout`.",
  aborted: "The command was interrupted; run it again.",
  response_too_large:
    "The server sent more than certbound accepts: check the URL points at a token endpoint or resource.",
  throttled: "The server asked to wait: run the command again after the time it named.",
  invalid_certificate:
    "Pass the certificate as PEM (leaf first) or PFX/PKCS#12; check the file is not truncated.",
  invalid_private_key: "Pass the certificate's matching private key (`--key`, PEM PKCS#8, PKCS#1 or SEC1).",
  wrong_passphrase: "Put the right passphrase in the environment variable named by `--passphrase-env`.",
  certificate_expired: "Renew the certificate and upload the new one to the app registration.",
  certificate_not_yet_valid:
    "Check this machine's clock (`certbound doctor`), or wait until the certificate's notBefore.",
  cert_without_private_key: "Pass the private key with `--key`, or a PEM/PFX that contains it.",
  invalid_token_response:
    "The token endpoint's answer was not a token: check `--authority-host` points at Entra ID.",
  managed_identity_response_parse_failure:
    "The managed-identity endpoint answered something that is not a token: check no proxy or other service answers on its address.",
  token_type_missing: "The identity provider did not say the token type: check `--authority-host`.",
  token_type_mismatch:
    "The identity provider returned another token type than asked for: check the endpoint supports mTLS PoP.",
  pop_validation_failed:
    "The token is not bound to the certificate it came with: report it, and retry with `--force-refresh`.",
  http_error:
    "The resource answered with an error status: check the URL, the method and the body; its answer is printed above.",
  internal:
    "This is a bug in certbound: please report it at https://github.com/certbound/certbound/issues with the command you ran.",
};

/** The advice for an error code. */
export function fixFor(code: string): string {
  return FIXES[code] ?? FIXES.internal ?? "";
}
