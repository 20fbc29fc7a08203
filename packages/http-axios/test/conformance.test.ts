import { testHttpTransport } from "@certbound/core/testing";
import { createAxiosTransport } from "@certbound/http-axios";

testHttpTransport("axios", ({ clock, lookup, proxy, maxIdentities }) =>
  createAxiosTransport({ clock, lookup, proxy, maxIdentities }),
);
