// packages/resource-server/README.md, "Fastify 5".
import type { TokenValidator } from "@certbound/resource-server";

declare const validator: TokenValidator;

// #region readme-resource-server-fastify
import { readFileSync } from "node:fs";
import { accessTokenPlugin } from "@certbound/resource-server/fastify";
import Fastify from "fastify";

const app = Fastify({
  https: {
    cert: readFileSync("server.crt"),
    key: readFileSync("server.key"),
    requestCert: true,
    rejectUnauthorized: false,
  },
});
await app.register(accessTokenPlugin, { validator });
app.get("/items", async (request) => ({ caller: request.accessToken?.claims.azp }));
await app.listen({ port: 8443 });
// #endregion readme-resource-server-fastify
