// Tests import workspace packages by name; these aliases point them at the sources so a test
// run needs no build and always sees the code under test, not a stale dist/.
import { fileURLToPath } from "node:url";

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

export const workspaceAliases = [
  { find: /^@certbound\/core\/credential-kit$/, replacement: src("core/src/credential-kit/index.ts") },
  { find: /^@certbound\/core\/transport-kit$/, replacement: src("core/src/transport-kit/index.ts") },
  { find: /^@certbound\/([a-z-]+)$/, replacement: src("$1/src/index.ts") },
];

// Real sockets, TLS handshakes, RSA keys made at test time and child node processes on two shared
// cores: a generous per-test budget, never a sleep. Every project spreads this into its `test`
// options, because a project does not inherit the root config's (the root's 30 s never applied, and
// tests near vitest's default 5 s failed on a loaded machine).
export const testBudgets = { testTimeout: 30_000, hookTimeout: 30_000 };
