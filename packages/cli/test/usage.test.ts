// Help, version and usage errors of the built binary.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { certbound } from "./helpers";

describe("certbound usage", () => {
  it("--version prints the package version", async () => {
    const run = await certbound(["--version"]);
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it.each(["token", "call", "doctor", "decode"])(
    "%s --help lists its options and exits 0",
    async (command) => {
      const run = await certbound([command, "--help"]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: certbound ${command}`);
      expect(run.stdout).toContain("--json");
    },
  );

  it("--help names the exit codes and doctor as the first step", async () => {
    const run = await certbound(["--help"]);
    expect(run.stdout).toContain("When a PoP call fails, start with: certbound doctor");
    expect(run.stdout).toContain("2 usage, 3 authentication, 4 network, 5 validation");
  });

  it("an unknown option or command: exit code 2 with [usage] and a fix", async () => {
    for (const args of [["token", "--bogus"], ["frobnicate"], ["decode"]]) {
      const run = await certbound(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toContain("✗ error [usage]:");
      expect(run.stderr).toContain("fix: Run `certbound <command> --help`");
    }
  });

  it("a confidential client without --tenant: usage, before any file is read or request sent", async () => {
    const run = await certbound([
      "token",
      "--resource",
      "https://r.example",
      "--certificate",
      "/nonexistent.pem",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("needs --tenant");
  });

  it("--timeout out of range is a usage error", async () => {
    const run = await certbound([
      "token",
      "--resource",
      "https://r.example",
      "--timeout",
      "1e12",
      "--imds-endpoint",
      "http://127.0.0.1:1",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--timeout must be");
  });
});

describe("the tests' loopback-only guard", () => {
  it("ends a child that would reach IMDS at 169.254.169.254 (so every other test proves it did not)", async () => {
    const run = await certbound(["token", "--resource", "https://r.example", "--bearer"]);
    expect(run.code).toBe(99);
    expect(run.stderr).toContain("refused a connection to 169.254.169.254");
  });
});
