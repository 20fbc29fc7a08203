// The custom-transport example is the reference: one piece of code serves as both.

import { testHttpTransport } from "@certbound/testing";
import { createNodeHttpsTransport } from "../../../../examples/src/custom-transport";

// The reference transport has no proxy support; the suite checks that it then always goes direct.
testHttpTransport(
  "node:https reference",
  ({ clock, lookup, maxIdentities }) =>
    createNodeHttpsTransport({ clock, lookup, ...(maxIdentities ? { maxPools: maxIdentities } : {}) }),
  {
    capabilities: { proxy: false },
  },
);
