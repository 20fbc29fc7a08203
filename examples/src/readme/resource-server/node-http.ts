// packages/resource-server/README.md, "Plain node:https".
import type { TokenValidator } from "@certbound/resource-server";

declare const validator: TokenValidator;

// #region readme-resource-server-node
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { createNodeAuthenticator } from "@certbound/resource-server";

const authenticate = createNodeAuthenticator({
  validator,
  onRejected: (error) => console.warn("token refused:", error.code),
});
const tls = { cert: readFileSync("server.crt"), key: readFileSync("server.key") };
createServer({ ...tls, requestCert: true, rejectUnauthorized: false }, async (req, res) => {
  const token = await authenticate(req, res); // undefined: the 401 is already sent
  if (!token) return;
  res.end(`hello ${String(token.claims.oid)}`);
}).listen(8443);
// #endregion readme-resource-server-node
