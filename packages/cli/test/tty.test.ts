// Progress and colours: on a terminal (a pseudo-terminal from util-linux `script`), never on a pipe,
// and no colour with NO_COLOR.
import { execFileSync } from "node:child_process";
import type { Emulator } from "@certbound/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certbound, cleanEnv, emulatorWithCaFile, tempDir, underPty } from "./helpers";

let emu: Emulator;
let caFile: string;

beforeAll(async () => {
  // `script` ships with util-linux on every Debian/Ubuntu machine and CI image this project uses.
  execFileSync("script", ["--version"]);
  ({ emu, caFile } = await emulatorWithCaFile(tempDir()));
});
afterAll(async () => {
  await emu?.close();
});

const tokenArgs = () => [
  "token",
  "--resource",
  emu.resourceUrl,
  "--imds-endpoint",
  emu.imdsEndpoint,
  "--mtls-authority-host",
  emu.mtlsAuthorityHost,
  "--ca",
  caFile,
];
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for SGR colour sequences
const COLOUR = /\u001b\[3\dm/;

describe("on a terminal", () => {
  it("shows a spinner named for the step and colours", async () => {
    const run = await underPty(tokenArgs(), cleanEnv({ TERM: "xterm" }));
    expect(run.code).toBe(0);
    expect(run.screen).toMatch(/⠋ acquiring token/);
    expect(run.screen).toMatch(COLOUR);
    expect(run.screen).toContain("mtls_pop");
  });

  it("with NO_COLOR: the spinner still, but no colour", async () => {
    const run = await underPty(tokenArgs(), cleanEnv({ TERM: "xterm", NO_COLOR: "1" }));
    expect(run.code).toBe(0);
    expect(run.screen).toMatch(/⠋ acquiring token/);
    expect(run.screen).not.toMatch(COLOUR);
  });
});

describe("on a pipe", () => {
  it("no spinner and no escape sequence at all", async () => {
    const run = await certbound(tokenArgs(), { env: cleanEnv({ TERM: "xterm" }) });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).not.toContain("acquiring token");
    expect(`${run.stdout}${run.stderr}`).not.toContain("\u001b");
  });
});
