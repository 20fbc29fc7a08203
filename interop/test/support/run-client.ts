import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** A client script in interop/clients/. */
export type ClientScript =
  | "msal-confidential"
  | "msal-managed-identity"
  | "identity-managed-identity"
  | "identity-client-certificate"
  | "oauth4webapi-mtls";

/** One case's outcome as the child reported it. */
export interface CaseResult {
  label: string;
  ok: boolean;
  accessToken?: string;
  tokenType?: string;
  source?: string;
  fromCache?: boolean;
  scope?: string;
  authority?: string;
  error?: { name: string; errorCode?: string; causeErrorCode?: string; message: string };
}

/** What a child printed, its exit code and stderr. */
export interface ChildOutcome<T> {
  ok: boolean;
  results?: T;
  error?: { name: string; errorCode?: string; message: string };
  exitCode: number | null;
  stderr: string;
}

const CLIENTS = fileURLToPath(new URL("../../clients/", import.meta.url));
const running = new Set<ChildProcess>();

/** Longest a client process may run; it is killed then (and the test fails with what it printed). */
export const CHILD_TIMEOUT_MS = 25_000;

/**
 * Runs a client script in its own `node` process with only the environment given (plus PATH):
 * NODE_EXTRA_CA_CERTS and the managed-identity variables of one source, nothing inherited that
 * could steer a client elsewhere (no proxy, no AZURE_* from the machine).
 */
export function runClient<T = CaseResult[]>(
  script: ClientScript,
  options: { input: unknown; env: Record<string, string> },
): Promise<ChildOutcome<T>> {
  const child = spawn(process.execPath, [`${CLIENTS}${script}.mjs`], {
    cwd: CLIENTS,
    env: { PATH: process.env.PATH ?? "", ...options.env, INTEROP_INPUT: JSON.stringify(options.input) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`${script} did not finish within ${CHILD_TIMEOUT_MS} ms. stderr: ${stderr.slice(-2000)}`),
      );
    }, CHILD_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.on("close", (exitCode) => {
      clearTimeout(timer);
      running.delete(child);
      const line = stdout.trim().split("\n").at(-1) ?? "";
      try {
        resolve({ ...(JSON.parse(line) as { ok: boolean }), exitCode, stderr });
      } catch {
        reject(new Error(`${script} printed no result (exit ${exitCode}). stderr: ${stderr.slice(-2000)}`));
      }
    });
  });
}

/** Kills every client process still running (afterEach/afterAll: none outlives its test). */
export function killClients(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
}
