import { testHttpTransport } from "@certbound/core/testing";
import { createUndiciTransport } from "@certbound/http-undici";

testHttpTransport("undici", ({ clock, lookup, proxy, maxIdentities }) =>
  createUndiciTransport({ clock, lookup, proxy, maxIdentities }),
);
