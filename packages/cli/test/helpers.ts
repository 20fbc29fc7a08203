import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Emulator, type EmulatorOptions, startEmulator } from "@certbound/emulator";

/** The built binary, as npm links it. */
export const BIN = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall clock from spawn to exit, measured here (the child's own figure is in doctor's JSON). */
  readonly elapsedMs: number;
}

/**
 * A clean environment: no proxy, no managed-identity variable and no IMDS override inherited from
 * the machine running the tests, so nothing is sent to a non-loopback address.
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: tmpdir(),
    TZ: "UTC",
    LANG: "C.UTF-8",
    NODE_OPTIONS: `--import=${LOOPBACK_ONLY}`,
    ...extra,
  };
}

/** Preload that refuses every non-loopback connection in the child (see loopback-only.mjs). */
export const LOOPBACK_ONLY = new URL("./loopback-only.mjs", import.meta.url).href;

/**
 * Runs the built `certbound` as a child process. Asynchronous on purpose: the emulator it talks to
 * runs in this process and must keep answering.
 */
export function certbound(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: options.env ?? cleanEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, elapsedMs: Date.now() - started }));
    child.stdin.end(options.stdin ?? "");
  });
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "certbound-cli-test-"));
}

/** An emulator with its CA written to a file for `--ca`. */
export async function emulatorWithCaFile(
  dir: string,
  options: EmulatorOptions = {},
): Promise<{ emu: Emulator; caFile: string }> {
  const emu = await startEmulator(options);
  const caFile = join(dir, `ca-${emu.tenantId}.pem`);
  writeFileSync(caFile, emu.caCertificatePem);
  return { emu, caFile };
}

/** A loopback port nothing listens on: connections to it are refused at once. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

/** Masks what changes from run to run (ports, ids, thumbprints, times) for snapshots. */
export function mask(text: string): string {
  return text
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<guid>")
    .replace(/\(local \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d\)/g, "(local <time>)")
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, "<time>")
    .replace(/\b\d{10}\b/g, "<epoch>")
    .replace(/\b[0-9A-F]{40}\b/g, "<sha1>")
    .replace(/(?<![\w-])[\w-]{43}(?![\w-])/g, "<x5t#S256>")
    .replace(/^(\s+(?:kid|x5t))\s+"[^"]*"$/gm, "$1  <key id>")
    .replace(/in -?\d+ min/g, "in <n> min")
    .replace(/\d+ s (behind|ahead of)/g, "<n> s <behind or ahead of>")
    .replace(/\d+ characters/g, "<n> characters")
    .replace(/\d+ days left/g, "<n> days left")
    .replace(/\d+ ms\b/g, "<n> ms")
    .replace(/"(jti|uti|xms_[a-z_]+|rh|aio)"\s*?:?\s*"[^"]*"/g, '"$1": "<random>"')
    .replace(/^(\s+(?:jti|uti|rh|aio))\s+"[^"]*"$/gm, "$1  <random>");
}

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * Runs the binary with stdin, stdout and stderr on a pseudo-terminal (util-linux `script`);
 * resolves with everything it drew.
 */
export function underPty(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, BIN, ...args].map(quote).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], { env, stdio: ["pipe", "pipe", "pipe"] });
    let screen = "";
    child.stdout.on("data", (c: Buffer) => {
      screen += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      screen += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, screen }));
    child.stdin.end();
  });
}
