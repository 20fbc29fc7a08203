import { testHttpTransport } from "../src/testing/index";
import { createNodeHttpsTransport } from "./node-https-transport";

// The reference transport has no proxy support; the suite checks that it then always goes direct.
testHttpTransport(
  "node:https reference",
  ({ clock, lookup }) => createNodeHttpsTransport({ clock, lookup }),
  {
    capabilities: { proxy: false },
  },
);
