// packages/resource-server/README.md, first block: an Express 5 API over mutual TLS that accepts
// only mTLS PoP tokens bound to the caller's certificate.

// #region readme-resource-server-express
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { createTokenValidator } from "@certbound/resource-server";
import { requireAccessToken } from "@certbound/resource-server/express";
import express from "express";

const validator = createTokenValidator({
  tenants: ["<your tenant id>"],
  audiences: ["api://my-api"],
});

const app = express();
app.get("/items", requireAccessToken({ validator }), (req, res) => {
  res.json({ caller: req.accessToken?.claims.azp ?? req.accessToken?.claims.appid });
});

// Ask every client for its certificate: the token's binding is checked against it.
createServer(
  {
    cert: readFileSync("server.crt"),
    key: readFileSync("server.key"),
    requestCert: true,
    rejectUnauthorized: false,
  },
  app,
).listen(8443);
// #endregion readme-resource-server-express
