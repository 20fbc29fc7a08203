// packages/cli/README.md, "From code". Plain JavaScript for Node 20 (labelled js).

// #region readme-cli-from-code
import { EXIT_CODES, runCli } from "@certbound/cli";

const code = await runCli(["doctor", "--json"]); // prints like the command, returns the exit code
if (code === EXIT_CODES.doctorFailed) console.error("see the checks above");
// #endregion readme-cli-from-code
