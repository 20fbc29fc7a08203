import { testHttpTransport } from "@certbound/core/testing";
import { createAxiosTransport } from "@certbound/http-axios";

testHttpTransport("axios", ({ clock, lookup, proxy }) =>
  createAxiosTransport({ clock, lookup, ...(proxy ? { proxy } : {}) }),
);
