export type { ExitClass } from "./exit-codes";
export { EXIT_CODES } from "./exit-codes";
export type { CliIo } from "./run-cli";
export { runCli } from "./run-cli";
