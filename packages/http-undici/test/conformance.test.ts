import { createUndiciTransport } from "@certbound/http-undici";
import { testHttpTransport } from "@certbound/testing";

testHttpTransport("undici", ({ clock, lookup, proxy, maxIdentities }) =>
  createUndiciTransport({ clock, lookup, proxy, maxIdentities }),
);
