import { X509Certificate } from "node:crypto";
import type { TokenResult } from "@certbound/core";
import type { Command } from "commander";
import { acquireToken, type TokenSourceInfo } from "../acquire";
import { addCredentialOptions, type CredentialOptions } from "../credential-options";
import { EXIT_CODES } from "../exit-codes";
import { fixFor } from "../fixes";
import {
  claimLines,
  claimsWithTimes,
  cnfThumbprint,
  type DecodedJwt,
  decodeJwt,
  formatTime,
} from "../jwt-view";
import { paint, type Terminal, withSpinner } from "../terminal";

interface TokenOptions extends CredentialOptions {
  json?: boolean;
  raw?: boolean;
}

/** The binding certificate's thumbprints, in the two forms people compare. */
export interface BindingView {
  readonly x5tS256: string;
  /** Upper-case hex without colons: what the Entra portal shows under Certificates & secrets. */
  readonly sha1: string;
  readonly subject: string;
  readonly notAfter: string;
}

export function bindingView(result: TokenResult): BindingView | undefined {
  const binding = result.bindingCertificate;
  if (!binding) return undefined;
  const leaf = new X509Certificate(binding.certificatePem);
  return {
    x5tS256: binding.x5tS256,
    sha1: leaf.fingerprint.replaceAll(":", "").toUpperCase(),
    subject: leaf.subject.replaceAll("\n", ", "),
    notAfter: binding.notAfter.toISOString(),
  };
}

function tryDecode(token: string): DecodedJwt | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined; // Entra may issue opaque tokens; the claims are then simply not shown.
  }
}

export function registerToken(program: Command, terminal: Terminal, setExit: (code: number) => void): void {
  const command = program
    .command("token")
    .description("get an access token (mTLS PoP by default) from managed identity or a confidential client")
    .option("--resource <uri>", "the resource the token is for, e.g. https://vault.azure.net")
    .option("--scope <scope>", "the scope instead of --resource, e.g. https://vault.azure.net/.default")
    .option("--json", "print a JSON object (it includes the token) for scripts")
    .option("--raw", "print only the token")
    .addHelpText(
      "after",
      '\nExamples:\n  certbound token --resource https://vault.azure.net\n  certbound token --certificate app.pem --tenant contoso.onmicrosoft.com --client-id <app id> --resource https://graph.microsoft.com --json\n  curl --cert app.pem -H "Authorization: Bearer $(certbound token --raw --resource https://example.org)" https://example.org',
    );
  addCredentialOptions(command).action(async (options: TokenOptions) => {
    const acquired = await withSpinner(terminal, "acquiring token", () =>
      acquireToken(options, terminal.env),
    );
    try {
      const { result, source } = acquired;
      const decoded = tryDecode(result.accessToken);
      const binding = bindingView(result);
      const cnf = decoded ? cnfThumbprint(decoded.claims) : undefined;
      const cnfMatches = binding === undefined ? undefined : cnf === binding.x5tS256;
      if (options.raw) terminal.out(`${result.accessToken}\n`);
      else if (options.json)
        terminal.out(
          `${JSON.stringify(tokenJson(result, source, binding, decoded, cnf, cnfMatches), null, 2)}\n`,
        );
      else terminal.out(tokenText(terminal, result, source, binding, decoded, cnf, cnfMatches));
      // A PoP token whose cnf names another certificate would be refused by every resource.
      if (cnfMatches === false) {
        terminal.err(
          `✗ error [pop_validation_failed]: the token's cnf does not name its binding certificate.\n  fix: ${fixFor("pop_validation_failed")}\n`,
        );
        setExit(EXIT_CODES.validation);
      }
    } finally {
      await acquired.close();
    }
  });
}

function tokenJson(
  result: TokenResult,
  source: TokenSourceInfo,
  binding: BindingView | undefined,
  decoded: DecodedJwt | undefined,
  cnf: string | undefined,
  cnfMatches: boolean | undefined,
) {
  return {
    tokenType: result.tokenType,
    accessToken: result.accessToken,
    expiresOn: result.expiresOn.toISOString(),
    scopes: result.scopes,
    source: source.kind,
    sourceDescription: source.label,
    tokenEndpoint: result.metadata.tokenEndpoint,
    bindingCertificate: binding ?? null,
    cnf: cnf === undefined ? null : { "x5t#S256": cnf, matchesBindingCertificate: cnfMatches ?? null },
    header: decoded?.header ?? null,
    claims: decoded?.claims ?? null,
    claimTimes: decoded ? claimsWithTimes(decoded.claims) : null,
  };
}

function tokenText(
  terminal: Terminal,
  result: TokenResult,
  source: TokenSourceInfo,
  binding: BindingView | undefined,
  decoded: DecodedJwt | undefined,
  cnf: string | undefined,
  cnfMatches: boolean | undefined,
): string {
  const c = paint(terminal);
  const minutes = Math.round((result.expiresOn.getTime() - Date.now()) / 60_000);
  const lines = [
    `${c.green("✓")} ${c.bold(result.tokenType)} token for ${result.scopes.join(" ")}`,
    `  source        ${source.label}`,
    `  expires       ${formatTime(result.expiresOn.getTime() / 1000)}, in ${minutes} min`,
    `  token         ${result.accessToken.length} characters, not shown (use --raw or --json)`,
  ];
  if (result.metadata.tokenEndpoint) lines.push(`  endpoint      ${result.metadata.tokenEndpoint}`);
  if (binding) {
    lines.push(
      "  binding certificate",
      `    x5t#S256    ${binding.x5tS256}`,
      `    SHA-1       ${binding.sha1}  (the thumbprint the Entra portal shows)`,
      `    subject     ${binding.subject}`,
      `    not after   ${binding.notAfter}`,
    );
  }
  if (cnf !== undefined || binding) {
    lines.push(
      cnfMatches
        ? `  cnf           ${c.green("✓")} x5t#S256 ${cnf} matches the binding certificate`
        : `  cnf           ${c.red("✗")} ${cnf === undefined ? "the token has no cnf claim" : `x5t#S256 ${cnf}`}: it does not match the binding certificate`,
    );
  }
  if (decoded) {
    lines.push("claims");
    lines.push(...claimLines(decoded.claims, (name, text) => (name === "cnf" ? c.cyan(text) : text)));
  } else {
    lines.push("claims        (not a JWT: the token is opaque)");
  }
  return `${lines.join("\n")}\n`;
}
