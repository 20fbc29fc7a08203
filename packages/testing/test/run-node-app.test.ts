// runNodeApp: a real child process, its exit code or signal, and all of its output.
import { tmpdir } from "node:os";
import { expect, it } from "vitest";
import { runNodeApp } from "../src/index";

it("reports the exit code, both outputs whole, and the environment it was given", async () => {
  const app = `process.stdout.write("x".repeat(100000) + process.env.RUN_NODE_APP_MARK);
process.stderr.write("warned");
process.exitCode = 3;`;
  const run = await runNodeApp(["-e", app], { cwd: tmpdir(), env: { RUN_NODE_APP_MARK: "!" } });
  expect(run.code).toBe(3);
  expect(run.signal).toBeNull();
  expect(run.stdout).toBe(`${"x".repeat(100000)}!`);
  expect(run.stderr).toBe("warned");
});

it("reports the signal that ended the process", async () => {
  const run = await runNodeApp(["-e", 'process.kill(process.pid, "SIGTERM")'], { cwd: tmpdir() });
  expect(run).toMatchObject({ code: null, signal: "SIGTERM" });
});
