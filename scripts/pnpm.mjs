// The pinned pnpm (package.json `packageManager`), found or installed without touching global
// state: a pnpm on PATH is used only when it is exactly the pinned version; otherwise the pinned
// version is installed once into the project-local folder .tools/pnpm (git-ignored) with npm and
// run from there. Nothing is installed globally and corepack is not used (it fails where the
// registry's signing keys cannot be fetched). Shared by scripts/run.mjs (the README's commands) and
// scripts/workspace-packages.mjs (packaging checks, bench).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The pnpm version package.json pins. */
export const PNPM_VERSION = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split(
  "@",
)[1];

/** Where the project-local pnpm lives, relative to the repository root. */
export const LOCAL_PNPM_DIR = ".tools/pnpm";
const localBinDir = join(root, LOCAL_PNPM_DIR, "node_modules", ".bin");

function versionOf(command, env) {
  const probe = spawnSync(command, ["--version"], { encoding: "utf8", env });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/**
 * Finds the pinned pnpm, installing it into .tools/pnpm when neither PATH nor that folder has it.
 * Returns `{ command, binDir }`: the command to spawn, and the folder to put first on PATH for
 * child processes (turbo and pnpm's own scripts call `pnpm` by name), or undefined when the pnpm
 * on PATH already is the pinned one. `log` gets one line per thing it does.
 */
export function pinnedPnpm({ env = process.env, log = (line) => console.log(line) } = {}) {
  const onPath = versionOf("pnpm", env);
  if (onPath === PNPM_VERSION) return { command: "pnpm", binDir: undefined };
  const local = join(localBinDir, "pnpm");
  if (existsSync(local) && versionOf(local, env) === PNPM_VERSION) {
    return { command: local, binDir: localBinDir };
  }
  const args = [
    "install",
    "--prefix",
    LOCAL_PNPM_DIR,
    "--no-save",
    "--no-package-lock",
    "--no-audit",
    "--no-fund",
    `pnpm@${PNPM_VERSION}`,
  ];
  log(
    `[certbound] pnpm ${PNPM_VERSION} (pinned in package.json) is ${onPath ? `not the pnpm on PATH (${onPath})` : "not on PATH"}: installing it into ${LOCAL_PNPM_DIR}/ for this project only (nothing global changes): npm ${args.join(" ")}`,
  );
  const started = Date.now();
  // pnpm's install script swaps its launcher for the native binary (turbo spawns `pnpm` directly).
  // npm 11 warns about install scripts not listed in the project's allowScripts, and npm 12 skips
  // them: this folder's own package.json approves exactly the pinned pnpm.
  mkdirSync(join(root, LOCAL_PNPM_DIR), { recursive: true });
  writeFileSync(
    join(root, LOCAL_PNPM_DIR, "package.json"),
    `${JSON.stringify(
      {
        name: "certbound-local-pnpm",
        private: true,
        description: "The pinned pnpm for this repository, installed by scripts/pnpm.mjs",
        allowScripts: { [`pnpm@${PNPM_VERSION}`]: true },
      },
      null,
      2,
    )}\n`,
  );
  const installed = spawnSync("npm", args, { cwd: root, stdio: "inherit", env });
  const version = existsSync(local) ? versionOf(local, env) : undefined;
  if (installed.status !== 0 || version !== PNPM_VERSION) {
    throw new Error(
      `could not install pnpm ${PNPM_VERSION} into ${LOCAL_PNPM_DIR}/ (npm exit ${installed.status}, got ${version ?? "no pnpm"}); install it yourself (npm install -g pnpm@${PNPM_VERSION}) and run again`,
    );
  }
  log(`[certbound] pnpm ${PNPM_VERSION} installed into ${LOCAL_PNPM_DIR}/ in ${Date.now() - started} ms`);
  return { command: local, binDir: localBinDir };
}

/** `env` with `binDir` first on PATH (unchanged when binDir is undefined). */
export function withPnpmOnPath(env, binDir) {
  if (!binDir) return env;
  return { ...env, PATH: [binDir, env.PATH].filter(Boolean).join(delimiter) };
}
