// Issue 22 item 4: a managed-identity client starts its PoP key generation when it is created, in
// a worker thread. Each case runs a small app in a child `node` process and checks what it printed
// and how it exited.
import { describe, expect, it } from "vitest";
import { runApp } from "./support/run-app";

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
