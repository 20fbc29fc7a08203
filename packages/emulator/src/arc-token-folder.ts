import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, rmdirSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { invalidOptions } from "@certbound/core/credential-kit";

/**
 * The Azure Connected Machine agent's token folder on Linux. @azure/msal-node (and so
 * @azure/identity) reads a challenge key file only when the realm is exactly
 * `/var/opt/azcmagent/tokens/<name>.key` (msal-node `ManagedIdentitySources/AzureArc.ts`,
 * `SUPPORTED_AZURE_ARC_PLATFORMS`), so the emulator writes there whenever it can.
 */
export const AZURE_ARC_AGENT_TOKEN_FOLDER = "/var/opt/azcmagent/tokens";

/** The agent's executable on Linux: where it exists, the agent's folder belongs to a real agent. */
export const AZURE_ARC_AGENT_EXECUTABLE = "/opt/azcmagent/bin/himds";

/** Where the Azure Arc endpoint writes its challenge key files, and the files it wrote. */
export interface ArcTokenFolder {
  readonly path: string;
  /** Writes a new challenge key file holding `key`; returns its absolute path. */
  write(key: string): string;
  /** Removes a key file this emulator wrote (it opens one request only). */
  remove(file: string): void;
  /** Removes every file this emulator wrote, and the folders it created when they are empty. */
  close(): Promise<void>;
}

/**
 * Opens the Arc token folder: `"temporary"` makes a new temporary folder (removed on close); a
 * path is used as given (created when missing, must be writable); `undefined` means the agent's
 * folder where it is writable (Linux, as root) and no real agent is installed, else a temporary
 * folder. Other emulators may share the agent's folder, so only this emulator's own files are ever
 * removed from it.
 */
export async function openArcTokenFolder(
  choice: string | undefined,
  agent = { folder: AZURE_ARC_AGENT_TOKEN_FOLDER, executable: AZURE_ARC_AGENT_EXECUTABLE },
): Promise<ArcTokenFolder> {
  if (choice === "temporary") return temporary();
  if (choice !== undefined) {
    const prepared = prepare(resolve(choice));
    if ("error" in prepared) {
      throw invalidOptions(
        "@certbound/emulator",
        `\`arcTokenFolder\` ${choice} cannot be created or written (${prepared.error}). Pick a writable folder, or "temporary".`,
      );
    }
    return shared(resolve(choice), prepared.created);
  }
  // On a machine with a real agent its folder is left alone unless asked for by path.
  if (process.platform === "linux" && !existsSync(agent.executable)) {
    const prepared = prepare(agent.folder);
    if (!("error" in prepared)) return shared(agent.folder, prepared.created);
  }
  return temporary();
}

function prepare(path: string): { created: string | undefined } | { error: string } {
  try {
    // Like the agent's folder: key files are secrets, readable only by privileged users.
    const created = mkdirSync(path, { recursive: true, mode: 0o700 });
    accessSync(path, constants.W_OK | constants.X_OK);
    return { created };
  } catch (error) {
    return { error: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

async function temporary(): Promise<ArcTokenFolder> {
  const path = await mkdtemp(join(tmpdir(), "certbound-arc-"));
  const folder = shared(path, undefined);
  return {
    ...folder,
    close: async () => {
      await folder.close();
      await rm(path, { recursive: true, force: true });
    },
  };
}

function shared(path: string, created: string | undefined): ArcTokenFolder {
  const files = new Set<string>();
  const remove = (file: string) => {
    files.delete(file);
    try {
      unlinkSync(file);
    } catch {
      // Already gone (a test or the user removed it).
    }
  };
  return {
    path,
    write(key) {
      const file = join(path, `${randomBytes(8).toString("hex")}.key`);
      try {
        writeFileSync(file, key, { mode: 0o600, flag: "wx" });
      } catch (error) {
        // Another emulator that created the shared folder removed it when it closed.
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        mkdirSync(path, { recursive: true, mode: 0o700 });
        writeFileSync(file, key, { mode: 0o600, flag: "wx" });
      }
      files.add(file);
      return file;
    },
    remove,
    async close() {
      for (const file of [...files]) remove(file);
      if (created === undefined) return;
      // Remove the folders this emulator created, innermost first, while they are empty.
      for (let dir = path; dir.length >= created.length; dir = dirname(dir)) {
        try {
          rmdirSync(dir);
        } catch {
          return; // not empty (another emulator's files) or already gone
        }
      }
    },
  };
}
