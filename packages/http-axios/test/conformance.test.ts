import { createAxiosTransport } from "@certbound/http-axios";
import { testHttpTransport } from "@certbound/testing";

testHttpTransport("axios", ({ clock, lookup, proxy, maxIdentities }) =>
  createAxiosTransport({ clock, lookup, proxy, maxIdentities }),
);
