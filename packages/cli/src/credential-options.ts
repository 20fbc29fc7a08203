import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { CliError } from "./cli-error";

/** The options `token` and `call` share: where the token comes from and how to reach it. */
export interface CredentialOptions {
  resource?: string;
  scope?: string;
  bearer?: boolean;
  certificate?: string;
  key?: string;
  passphraseEnv?: string;
  tenant?: string;
  clientId?: string;
  objectId?: string;
  resourceId?: string;
  region?: string;
  authorityHost?: string;
  mtlsAuthorityHost?: string;
  imdsEndpoint?: string;
  ca?: string[];
  timeout?: string;
}

export const DEFAULT_PASSPHRASE_ENV = "CERTBOUND_CERTIFICATE_PASSPHRASE";

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Adds the source options to a command. */
export function addCredentialOptions(command: Command): Command {
  return command
    .option("--bearer", "a Bearer token instead of an mTLS PoP token")
    .option(
      "--certificate <file>",
      "confidential client: the app's certificate, PEM (with its key, or see --key) or PFX/PKCS#12 (.pfx, .p12); without it, managed identity",
    )
    .option("--key <file>", "confidential client: the private key (PEM) when it is not in --certificate")
    .option(
      "--passphrase-env <name>",
      "environment variable holding the key's or PFX's passphrase (never on the command line)",
      DEFAULT_PASSPHRASE_ENV,
    )
    .option("--tenant <id>", "confidential client: the tenant id or domain")
    .option(
      "--client-id <id>",
      "with --certificate: the app (client) id; without: a user-assigned managed identity's client id",
    )
    .option("--object-id <id>", "managed identity: a user-assigned identity's object (principal) id")
    .option("--resource-id <id>", "managed identity: a user-assigned identity's Azure resource id")
    .option("--region <name>", "confidential client: Azure region for the regional endpoints, or `auto`")
    .option(
      "--authority-host <url>",
      "private clouds and emulators only: the regular Entra host (default https://login.microsoftonline.com)",
    )
    .option(
      "--mtls-authority-host <url>",
      "private clouds and emulators only: the mTLS token host, instead of the one derived from the authority or named by IMDS",
    )
    .option(
      "--imds-endpoint <url>",
      "emulators and tests only: the IMDS base URL (default env AZURE_POD_IDENTITY_AUTHORITY_HOST, else http://169.254.169.254)",
    )
    .option(
      "--ca <file>",
      "extra trusted CA certificate (PEM) on top of the system store, for a private cloud or an emulator; repeatable. TLS verification cannot be turned off",
      collect,
    )
    .option("--timeout <seconds>", "budget of the whole token acquisition", "30");
}

/** Reads a file the user named, as a typed error when it cannot be read. */
export function readUserFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new CliError("file_unreadable", `cannot read the ${what} "${path}" (${reason}).`);
  }
}

/** The `--ca` files as PEM texts, or undefined when none was given. */
export function readCaFiles(files: readonly string[] | undefined): string[] | undefined {
  if (!files || files.length === 0) return undefined;
  return files.map((file) => {
    const pem = readUserFile(file, "CA file (--ca)").toString("utf8");
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      throw new CliError("usage", `the CA file "${file}" (--ca) holds no PEM certificate.`);
    }
    return pem;
  });
}

/** `--timeout` in milliseconds: a positive number of seconds, at most one hour. */
export function timeoutMs(value: string | undefined, fallbackSeconds: number): number {
  if (value === undefined) return fallbackSeconds * 1000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new CliError("usage", `--timeout must be a number of seconds between 0 and 3600, got "${value}".`);
  }
  return Math.round(seconds * 1000);
}
