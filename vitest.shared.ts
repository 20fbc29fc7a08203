// Tests import workspace packages by name; these aliases point them at the sources so a test
// run needs no build and always sees the code under test, not a stale dist/.
import { fileURLToPath } from "node:url";

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

export const workspaceAliases = [
  { find: /^@certbound\/core\/credential-kit$/, replacement: src("core/src/credential-kit/index.ts") },
  { find: /^@certbound\/core\/transport-kit$/, replacement: src("core/src/transport-kit/index.ts") },
  { find: /^@certbound\/([a-z-]+)$/, replacement: src("$1/src/index.ts") },
];
