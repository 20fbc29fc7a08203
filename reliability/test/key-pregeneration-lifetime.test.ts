// Issue 22 item 4: a managed-identity client starts its PoP key generation when it is created, in
// a worker thread. Each case runs a small app in a child `node` process and checks what it printed
// and how it exited.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const reliabilityDir = fileURLToPath(new URL("..", import.meta.url));
const rootTsconfig = fileURLToPath(new URL("../../tsconfig.json", import.meta.url));

function runApp(name: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", `test/apps/${name}.ts`], {
      cwd: reliabilityDir,
      env: { ...process.env, TSX_TSCONFIG_PATH: rootTsconfig },
      stdio: ["ignore", "pipe", "pipe"],
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
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("background PoP key generation", () => {
  it("an app that creates a managed identity client and returns exits 0 with nothing pending", async () => {
    const run = await runApp("create-msi-and-return");
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("pending: []\n");
    expect(run.code).toBe(0);
  });

  it("an app awaiting a key still being generated in the background gets it before exiting", async () => {
    const run = await runApp("await-prepared-key");
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("key: rsa 2048 public\n");
    expect(run.code).toBe(0);
  });
});
