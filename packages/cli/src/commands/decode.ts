import type { Command } from "commander";
import { CliError } from "../cli-error";
import { claimLines, claimsWithTimes, cnfThumbprint, decodeJwt, printable } from "../jwt-view";
import { paint, type Terminal } from "../terminal";

/** Tokens are a few KiB; more on stdin is not a token. */
const MAX_INPUT_BYTES = 64 * 1024;

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > MAX_INPUT_BYTES)
      throw new CliError(
        "invalid_jwt",
        `stdin holds more than ${MAX_INPUT_BYTES} bytes: that is not a token.`,
      );
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function registerDecode(program: Command, terminal: Terminal, stdin: NodeJS.ReadableStream): void {
  program
    .command("decode")
    .argument("<jwt>", "the token, or - to read it from stdin")
    .description("show a JWT's header and claims (not verified), times in UTC and local, cnf highlighted")
    .option("--json", "print { header, claims, claimTimes } as JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  certbound decode eyJ0eXAi...\n  certbound token --raw --resource https://vault.azure.net | certbound decode -",
    )
    .action(async (input: string, options: { json?: boolean }) => {
      const token = input === "-" ? await readStdin(stdin) : input;
      const { header, claims } = decodeJwt(token);
      if (options.json) {
        terminal.out(`${JSON.stringify({ header, claims, claimTimes: claimsWithTimes(claims) }, null, 2)}\n`);
        return;
      }
      const c = paint(terminal);
      const cnf = cnfThumbprint(claims);
      const lines = [
        c.bold("header"),
        ...Object.entries(header).map(([k, v]) => `  ${printable(k)}  ${printable(JSON.stringify(v))}`),
        c.bold("claims"),
        ...claimLines(claims, (name, text) =>
          name === "cnf" ? c.cyan(`${text}  ◀ certificate binding`) : text,
        ),
        cnf !== undefined
          ? `${c.cyan("cnf")}: bound to the certificate with x5t#S256 ${printable(cnf)} (an mTLS PoP token: present that certificate in the TLS handshake)`
          : "cnf: none (a Bearer token, not bound to a certificate)",
        c.dim("The signature was not verified: decode only reads a token."),
      ];
      terminal.out(`${lines.join("\n")}\n`);
    });
}
