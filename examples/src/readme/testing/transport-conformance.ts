// packages/testing/README.md, "Check a transport": the conformance suite run against the transport
// packages/core/README.md builds in "Writing your own transport". Type-checked, not run.
import { createMyTransport } from "../core/transport-kit";

// #region readme-testing-transport-conformance
import { testHttpTransport } from "@certbound/testing";

// The factory gets the suite's clock (timeouts run on it), a DNS lookup for test host names,
// and, when the transport declares proxy support, the proxy settings to use.
testHttpTransport("my transport", ({ clock, lookup, proxy, maxIdentities }) =>
  createMyTransport({ clock, lookup, proxy, maxIdentities }),
  { capabilities: { proxy: true, maxIdentities: true } },
);
// #endregion readme-testing-transport-conformance
