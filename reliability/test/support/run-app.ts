import { fileURLToPath } from "node:url";
import { type NodeAppRun, runNodeApp } from "@certbound/testing";

const reliabilityDir = fileURLToPath(new URL("../..", import.meta.url));
const rootTsconfig = fileURLToPath(new URL("../../../tsconfig.json", import.meta.url));

/**
 * Runs test/apps/<name>.ts as a child `node` process from source (tsx maps @certbound/* to the
 * sources through the root tsconfig) and resolves once it has exited and its output has ended.
 */
export function runApp(name: string, env: Record<string, string> = {}): Promise<NodeAppRun> {
  return runNodeApp(["--import", "tsx", `test/apps/${name}.ts`], {
    cwd: reliabilityDir,
    env: { TSX_TSCONFIG_PATH: rootTsconfig, ...env },
  });
}
