import { readFileSync } from "node:fs";
import { isCertboundError } from "@certbound/core";
import { Command, CommanderError } from "commander";
import { CliError } from "./cli-error";
import { registerCall } from "./commands/call";
import { registerDecode } from "./commands/decode";
import { registerDoctor } from "./commands/doctor";
import { registerToken } from "./commands/token";
import { EXIT_CODES, errorCode, exitCodeFor } from "./exit-codes";
import { fixFor } from "./fixes";
import { printable } from "./jwt-view";
import { createTerminal, paint, type TerminalStreams } from "./terminal";

/**
 * Where {@link runCli} reads and writes: the process's streams and environment by default.
 *
 * @example
 * ```ts
 * const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
 * ```
 *
 * @public
 */
export interface CliIo extends TerminalStreams {
  readonly stdin: NodeJS.ReadableStream;
}

/** This package's version, from its package.json (one folder up from both src/ and dist/). */
function packageVersion(): string {
  const manifest = new URL("../package.json", import.meta.url);
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

/**
 * Runs the `certbound` command line with `argv` (without `node` and the script) and resolves with
 * its exit code (see {@link EXIT_CODES}); it never calls `process.exit`. Errors are printed with
 * their certbound code and a fix; secrets never are, except the token with `token --raw/--json`.
 *
 * @example
 * ```ts
 * import { runCli } from "@certbound/cli";
 * process.exitCode = await runCli(["doctor", "--json"]);
 * ```
 *
 * @public
 */
export async function runCli(argv: readonly string[], io?: CliIo): Promise<number> {
  const streams: CliIo = io ?? {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  };
  const terminal = createTerminal(streams);
  let exitCode: number = EXIT_CODES.ok;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const json = argv.includes("--json");
  const c = paint(terminal);
  // Commander's own messages (unknown option, missing argument) carry the usage code like every error.
  const output = {
    writeOut: terminal.out,
    writeErr: terminal.err,
    outputError: (text: string, write: (t: string) => void) =>
      json
        ? undefined
        : write(`${c.red("✗ error")} [usage]: ${printable(text.replace(/^error: /, "").trimEnd())}\n`),
  };
  const program = new Command()
    .name("certbound")
    .description(
      "Get, inspect and use mTLS PoP (RFC 8705) tokens from Microsoft Entra ID, and diagnose a setup.",
    )
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help for a command")
    .exitOverride()
    .configureOutput(output)
    .addHelpText(
      "after",
      `
When a PoP call fails, start with: certbound doctor

Exit codes: 0 ok, 1 bug in certbound, 2 usage, 3 authentication, 4 network, 5 validation,
6 a doctor check failed, 7 the resource answered call with an error status.
Environment: NO_COLOR disables colours; AZURE_POD_IDENTITY_AUTHORITY_HOST moves IMDS.`,
    );
  // Every subcommand reports its parse errors through the same override.
  program.hook("preSubcommand", (_parent, sub) => {
    sub.exitOverride().configureOutput(output);
  });
  registerToken(program, terminal, setExit);
  registerCall(program, terminal, setExit);
  registerDoctor(program, terminal, setExit);
  registerDecode(program, terminal, streams.stdin);
  for (const sub of program.commands) sub.exitOverride().configureOutput(output);

  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0; commander already printed its message.
      if (error.exitCode === 0) return EXIT_CODES.ok;
      const message = printable(error.message.replace(/^error: /, ""));
      if (json) {
        terminal.out(
          `${JSON.stringify({ ok: false, error: { code: "usage", message, fix: fixFor("usage"), exitCode: EXIT_CODES.usage, correlationId: null } }, null, 2)}\n`,
        );
      } else {
        terminal.err(`  ${c.yellow("fix:")} ${fixFor("usage")}\n`);
      }
      return EXIT_CODES.usage;
    }
    const code = errorCode(error);
    const message = printable(error instanceof Error ? error.message : String(error));
    const fix = fixFor(code);
    const exit = exitCodeFor(error);
    if (json) {
      const correlationId = isCertboundError(error) ? error.correlationId : undefined;
      terminal.out(
        `${JSON.stringify({ ok: false, error: { code, message, fix, exitCode: exit, correlationId: correlationId ?? null } }, null, 2)}\n`,
      );
    } else {
      terminal.err(`${c.red("✗ error")} [${code}]: ${message}\n  ${c.yellow("fix:")} ${fix}\n`);
      if (error instanceof CliError || isCertboundError(error)) {
        if (isCertboundError(error) && error.correlationId)
          terminal.err(`  correlation id: ${error.correlationId}\n`);
      } else if (error instanceof Error && error.stack) {
        terminal.err(`${printable(error.stack.split("\n").slice(1, 4).join(" | "))}\n`);
      }
    }
    return exit;
  }
}
