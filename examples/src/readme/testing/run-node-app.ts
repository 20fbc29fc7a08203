// packages/testing/README.md, "An app run as a process": an app script that must exit on its own.
// Type-checked, not run; the prelude stands for the test's package folder and the app's config.
import { expect } from "vitest";

declare const packageDir: string;
declare const config: object;

// #region readme-testing-run-node-app
import { runNodeApp } from "@certbound/testing";

const run = await runNodeApp(["test/apps/acquire-and-exit.mjs"], {
  cwd: packageDir, // the app's bare imports resolve from here
  env: { APP_CONFIG: JSON.stringify(config) },
});
// It exited by itself (no timer or socket left open), with code 0, and said nothing on stderr.
expect(run).toMatchObject({ code: 0, signal: null, stderr: "" });
// #endregion readme-testing-run-node-app
