// packages/resource-server/README.md, "Behind a TLS-terminating proxy".
import { createTokenValidator } from "@certbound/resource-server";

// #region readme-resource-server-proxy
const validator = createTokenValidator({
  tenants: ["<your tenant id>"],
  audiences: ["api://my-api"],
  // Envoy in front of this server at 10.0.0.5 terminates TLS and forwards the client certificate.
  forwardedCertificate: { format: "envoy", trustedProxies: ["10.0.0.5"] },
});
// #endregion readme-resource-server-proxy

export { validator };
