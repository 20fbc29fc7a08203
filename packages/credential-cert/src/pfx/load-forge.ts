// node-forge reads PFX files, and only PFX files: it is an optional peer dependency, loaded the
// first time a PFX is given, so that an app with PEM certificates neither installs nor loads it.
// `require` rather than `import()`: reading a PFX stays synchronous, so a fixed certificate is still
// checked when the client is created and served without waiting a turn (node-forge 1.x is CommonJS).
import { createRequire } from "node:module";
import { CertboundError } from "@certbound/core";
import type * as Forge from "node-forge";

/**
 * The error's text, also what the README tells PFX users to do.
 * @internal
 * @example
 * ```ts
 * console.error(FORGE_MISSING);
 * ```
 */
export const FORGE_MISSING =
  "Reading a PFX needs the optional peer dependency node-forge: npm install node-forge@1";

let forge: typeof Forge | undefined;

/**
 * node-forge, loaded on first use. Throws `invalid_options` naming the package when it is not installed.
 * @internal
 * @example
 * ```ts
 * const forge = loadForge();
 * ```
 */
export function loadForge(): typeof Forge {
  if (forge) return forge;
  try {
    forge = createRequire(import.meta.url)("node-forge") as typeof Forge;
  } catch (cause) {
    // Only node-forge itself missing: a broken install (a file of it missing) keeps its own error.
    const { code, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
    if (code === "MODULE_NOT_FOUND" && String(message).includes("'node-forge'")) {
      throw new CertboundError("invalid_options", `@certbound/credential-cert: ${FORGE_MISSING}.`, { cause });
    }
    throw cause;
  }
  return forge;
}
