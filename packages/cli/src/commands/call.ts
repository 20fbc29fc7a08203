import { writeFileSync } from "node:fs";
import { ResourceCaller } from "@certbound/core";
import { parseBearerChallenge, redactSecrets } from "@certbound/core/credential-kit";
import type { Command } from "commander";
import { acquireToken } from "../acquire";
import { CliError } from "../cli-error";
import { addCredentialOptions, type CredentialOptions, readUserFile } from "../credential-options";
import { EXIT_CODES } from "../exit-codes";
import { fixFor } from "../fixes";
import { printable } from "../jwt-view";
import { paint, type Terminal, withSpinner } from "../terminal";

interface CallOptions extends CredentialOptions {
  request?: string;
  header?: string[];
  data?: string;
  dataFile?: string;
  output?: string;
  include?: boolean;
  json?: boolean;
}

// Control characters but tab and newline: what a response body may not send to a terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: neutralising control characters is the point.
const BODY_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const HEADER_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** `Name: value` pairs; CR/LF refused (header injection), Authorization refused (certbound sets it). */
export function parseHeaders(values: readonly string[] | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values ?? []) {
    const colon = value.indexOf(":");
    const name = colon > 0 ? value.slice(0, colon).trim() : "";
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new CliError(
        "usage",
        `-H needs "Name: value" with a valid header name, got ${JSON.stringify(printable(value.slice(0, 60)))}.`,
      );
    }
    const text = value.slice(colon + 1).trim();
    if (HEADER_CONTROL.test(text)) {
      throw new CliError(
        "usage",
        `the value of header ${name} contains a control character (CR/LF?): refused.`,
      );
    }
    if (name.toLowerCase() === "authorization") {
      throw new CliError(
        "usage",
        "certbound sets Authorization itself from the token; leave -H Authorization out.",
      );
    }
    headers[name.toLowerCase()] = text;
  }
  return headers;
}

/** What a 401's WWW-Authenticate says, in words; undefined when it is not a Bearer challenge. */
export function explainChallenge(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const challenge = parseBearerChallenge(header);
  const said = (k: string) => (challenge[k] ? printable(challenge[k].slice(0, 300)) : undefined);
  if (challenge.error === "insufficient_claims" || challenge.claims) {
    let claims = challenge.claims ?? "";
    try {
      claims = Buffer.from(claims, "base64").toString("utf8");
    } catch {
      // shown as sent
    }
    return `claims challenge: the resource wants a token with more claims (${said("error_description") ?? "no description"}). Requested claims: ${printable(claims.slice(0, 500)) || "(none named)"}. Your app must acquire a new token passing these claims (the clients' \`claims\` option), typically after satisfying a Conditional Access policy.`;
  }
  if (challenge.error)
    return `the resource says ${said("error")}${said("error_description") ? `: ${said("error_description")}` : ""}.`;
  return `the resource asks for authentication: ${printable(header.slice(0, 300))}.`;
}

export function registerCall(program: Command, terminal: Terminal, setExit: (code: number) => void): void {
  const command = program
    .command("call")
    .argument("<url>", "the https:// URL of the resource")
    .description("call a resource with a token over mutual TLS with its binding certificate (curl-like)")
    .option("-X, --request <method>", "GET or POST", "GET")
    .option("-H, --header <header>", "a request header, `Name: value`; repeatable", collect)
    .option("-d, --data <body>", "the request body (implies POST unless -X is given)")
    .option("--data-file <file>", "read the request body from a file")
    .option("-o, --output <file>", "write the response body to a file instead of stdout")
    .option("-i, --include", "print the response headers too")
    .option("--resource <uri>", "the resource the token is for (default: the URL's origin)")
    .option("--scope <scope>", "the scope instead of --resource")
    .option("--json", "print a JSON object with status, headers and body (never the token)")
    .addHelpText(
      "after",
      "\nExamples:\n  certbound call https://myvault.vault.azure.net/secrets/app?api-version=7.5 --resource https://vault.azure.net\n  certbound call https://api.contoso.com/orders -X POST -H 'Content-Type: application/json' -d '{}' --certificate app.pem --tenant contoso.onmicrosoft.com --client-id <app id>",
    );
  addCredentialOptions(command).action(async (url: string, options: CallOptions, cmd: Command) => {
    const methodGiven = cmd.getOptionValueSource("request") === "cli";
    const method = (
      methodGiven
        ? (options.request ?? "GET")
        : options.data !== undefined || options.dataFile !== undefined
          ? "POST"
          : "GET"
    ).toUpperCase();
    if (method !== "GET" && method !== "POST")
      throw new CliError(
        "usage",
        `-X must be GET or POST, got ${JSON.stringify(printable(method.slice(0, 20)))}.`,
      );
    if (options.data !== undefined && options.dataFile !== undefined)
      throw new CliError("usage", "give -d or --data-file, not both.");
    const headers = parseHeaders(options.header);
    const body =
      options.dataFile !== undefined
        ? readUserFile(options.dataFile, "request body (--data-file)")
        : options.data;
    let origin: string;
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== "https:") throw new Error("not https");
      origin = parsed.origin;
    } catch {
      throw new CliError(
        "usage",
        `the URL must be an absolute https:// URL (a token never travels in clear), got ${JSON.stringify(printable(url.slice(0, 100)))}.`,
      );
    }
    const acquired = await withSpinner(terminal, "acquiring token", () =>
      acquireToken(options, terminal.env, origin),
    );
    const caller = new ResourceCaller({ transport: acquired.transport, ca: acquired.ca });
    try {
      const { result } = acquired;
      const response = await withSpinner(terminal, `calling ${origin}`, () =>
        caller.call(result, url, {
          method,
          headers,
          body: body === undefined ? undefined : typeof body === "string" ? body : new Uint8Array(body),
        }),
      );
      // A resource that echoes the token must not get it printed.
      const responseBody = redactSecrets(response.body, [result.accessToken]);
      const explanation =
        response.status === 401 ? explainChallenge(response.headers["www-authenticate"]) : undefined;
      // An error status is an error like any other: its code and a fix, in both output forms.
      const statusCode =
        response.status === 401 || response.status === 403
          ? "resource_unauthorized"
          : response.status >= 400
            ? "http_error"
            : undefined;
      if (options.output !== undefined) {
        try {
          writeFileSync(options.output, responseBody);
        } catch (error) {
          throw new CliError(
            "file_unreadable",
            `cannot write the output file "${options.output}" (${(error as NodeJS.ErrnoException).code ?? "error"}).`,
          );
        }
      }
      if (options.json) {
        terminal.out(
          `${JSON.stringify(
            {
              status: response.status,
              headers: response.headers,
              body: options.output === undefined ? responseBody : null,
              output: options.output ?? null,
              tokenType: result.tokenType,
              bindingCertificate: result.bindingCertificate
                ? { x5tS256: result.bindingCertificate.x5tS256 }
                : null,
              explanation: explanation ?? null,
              error: statusCode ? { code: statusCode, fix: fixFor(statusCode) } : null,
            },
            null,
            2,
          )}\n`,
        );
      } else {
        const c = paint(terminal);
        const ok = response.status < 400;
        const how = result.bindingCertificate
          ? `${result.tokenType} token, client certificate x5t#S256 ${result.bindingCertificate.x5tS256}`
          : `${result.tokenType} token, no client certificate`;
        terminal.err(
          `${ok ? c.green("✓") : c.red("✗")} HTTP ${response.status} from ${origin} (${method}, ${how})\n`,
        );
        if (explanation) terminal.err(`  ${explanation}\n`);
        if (statusCode) terminal.err(`  [${statusCode}] ${c.yellow("fix:")} ${fixFor(statusCode)}\n`);
        if (options.include) {
          for (const [name, value] of Object.entries(response.headers))
            terminal.out(`${printable(name)}: ${printable(value)}\n`);
          terminal.out("\n");
        }
        if (options.output === undefined) {
          // On a terminal, a hostile body must not move the cursor or change colours.
          const shown = terminal.outIsTerminal ? responseBody.replace(BODY_CONTROL, "\uFFFD") : responseBody;
          terminal.out(shown.endsWith("\n") || shown === "" ? shown : `${shown}\n`);
        } else {
          terminal.err(`  body written to ${options.output} (${Buffer.byteLength(responseBody)} bytes)\n`);
        }
      }
      if (response.status === 401 || response.status === 403) setExit(EXIT_CODES.authentication);
      else if (response.status >= 400) setExit(EXIT_CODES.httpError);
    } finally {
      await caller.close();
      await acquired.close();
    }
  });
}
