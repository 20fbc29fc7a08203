// The `certbound` binary. The published bin loads the library entry instead of bundling a copy.
import { runCli } from "@certbound/cli";

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`certbound: ${(error as Error)?.message ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
