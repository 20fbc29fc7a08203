import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("the demo prints both reports with every check passed and exits 0", () => {
  const cwd = fileURLToPath(new URL("..", import.meta.url));
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/demo.ts"], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  const out = run.stdout;
  expect(out).toContain("1. Managed identity");
  expect(out).toContain("2. Confidential client");
  expect(out).toContain("All checks passed");
  expect(out).not.toContain("✗");
  // six checks per flow, plus "binding certificate is the app's own certificate"
  expect(out.match(/✓/g)?.length).toBe(13);

  // Nothing is cut: long values wrap onto indented lines of at most 100 characters.
  expect(out).not.toContain("…");
  const lines = out.split("\n");
  expect(lines.filter((l) => [...l].length > 100)).toEqual([]);
  // A wrapped value read back: continuation lines start at the value column.
  const unwrapped = out.replace(/\n {29}/g, " ");
  expect(unwrapped).toMatch(
    /mistake: other cert +binding_certificate_mismatch: The resource refused the token because the TLS client certificate \(x5t#S256 [\w-]{43}\) is not the one the token is bound to \([\w-]{43}\)\. Call the resource with result\.bindingCertificate\. Resource said: certificate_mismatch/,
  );

  // The managed-identity steps, each with its time, in order.
  const msi = out.slice(out.indexOf("1. Managed identity"), out.indexOf("2. Confidential client"));
  const step = (what: string) => new RegExp(`\\d+\\. +[\\d.]+ ms +${what}`);
  const steps = [
    step("GET IMDS getplatformmetadata → 200"),
    step("in-process: key pair and CSR"),
    step("POST IMDS issuecredential \\(CSR in, certificate out\\) → 200"),
    step("POST token request over mutual TLS \\(Entra mTLS host\\) → 200, TLS client"),
  ].map((pattern) => msi.search(pattern));
  expect(steps.every((at) => at >= 0)).toBe(true);
  expect([...steps].sort((a, b) => a - b)).toEqual(steps);
  expect(msi).toContain("second call                cache");
  expect(msi).toContain("0 request(s) on the wire");

  // The decoded claims of each token, with cnf equal to the binding certificate's thumbprint.
  for (const flow of [msi, out.slice(out.indexOf("2. Confidential client"))]) {
    const binding = /binding certificate +x5t#S256 ([\w-]{43})/.exec(flow)?.[1];
    expect(binding).toBeDefined();
    expect(flow).toContain("token claims");
    expect(flow).toMatch(/\n {4}aud +https:\/\/127\.0\.0\.1:\d+\n/);
    expect(flow).toContain(`    cnf                      {"x5t#S256":"${binding}"}`);
    expect(flow).toContain(`    clientCertificateX5tS256 ${binding}`);
  }
});
