import { spawn } from "node:child_process";

/**
 * What {@link runNodeApp} hands back: how the process ended and everything it wrote.
 *
 * @public
 */
export interface NodeAppRun {
  /** The exit code; `null` when a signal ended the process. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Where and how {@link runNodeApp} starts the app.
 *
 * @public
 */
export interface RunNodeAppOptions {
  /**
   * The working directory, which decides how the app's bare imports resolve (a package's folder
   * makes them its dependencies and their `dist/`).
   */
  readonly cwd: string;
  /** Added to the test process's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Runs `node <args>` as a child process with this Node, stdin closed, and resolves once it has
 * exited and its output has ended. Process lifetime (an app that is done exits; its exit code;
 * what it prints) shows only in a real process: this is how a test runs a small app script.
 * Nothing here bounds the wait: a child that never exits fails the test by the test's timeout.
 *
 * @public
 * @example
 * ```ts
 * const run = await runNodeApp(["test/apps/fetch-and-exit.mjs"], { cwd: packageDir, env: { APP_CONFIG } });
 * expect(run).toMatchObject({ code: 0, stderr: "" });
 * ```
 */
export function runNodeApp(args: readonly string[], options: RunNodeAppOptions): Promise<NodeAppRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    // "close", not "exit": the output streams have ended too.
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
