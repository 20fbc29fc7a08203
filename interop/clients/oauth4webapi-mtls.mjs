// oauth4webapi, the third-party client that speaks RFC 8705: discovery from the emulator's regular
// host, a client_credentials grant at the discovery's `mtls_endpoint_aliases.token_endpoint`
// (`useMtlsAlias`) authenticated by the TLS client certificate (`TlsClientAuth`), then calls to the
// protected resource with the same certificate and with another one. TLS goes through undici Agents
// (`customFetch`), trusting the emulator CA through NODE_EXTRA_CA_CERTS like any Node client.
import { readFileSync } from "node:fs";
import * as oauth from "oauth4webapi";
import { Agent, fetch as undiciFetch } from "undici";
import { describeError, input, run } from "./child.mjs";

/** A customFetch that presents one client certificate (or none). */
function fetchWith(dispatcher) {
  return async (url, options) => {
    const r = await undiciFetch(url, { ...options, dispatcher });
    // oauth4webapi checks `instanceof Response` against the global class, not undici's own.
    return new Response(await r.arrayBuffer(), {
      status: r.status,
      statusText: r.statusText,
      headers: r.headers,
    });
  };
}

run(async () => {
  const {
    issuer,
    clientId,
    scope,
    resourceUrl,
    certificatePath,
    keyPath,
    otherCertificatePath,
    otherKeyPath,
  } = input();
  const bound = new Agent({ connect: { cert: readFileSync(certificatePath), key: readFileSync(keyPath) } });
  const other = new Agent({
    connect: { cert: readFileSync(otherCertificatePath), key: readFileSync(otherKeyPath) },
  });
  const anonymous = new Agent();
  try {
    const issuerUrl = new URL(issuer);
    const as = await oauth.processDiscoveryResponse(
      issuerUrl,
      await oauth.discoveryRequest(issuerUrl, {
        algorithm: "oidc",
        [oauth.customFetch]: fetchWith(anonymous),
      }),
    );
    const client = { client_id: clientId, use_mtls_endpoint_aliases: true };
    const grant = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.TlsClientAuth(),
      // Entra's mTLS PoP request: the token type is asked for explicitly.
      { scope, token_type: "mtls_pop" },
      { [oauth.customFetch]: fetchWith(bound), [oauth.useMtlsAlias]: true },
    );
    const token = await oauth.processClientCredentialsResponse(as, client, grant, {
      // Entra answers token_type "mtls_pop" (it would against the real service too); RFC 6749 7.1
      // makes a client refuse a type it does not know, so it is declared here.
      recognizedTokenTypes: { mtls_pop: () => {} },
    });
    const call = async (dispatcher) => {
      try {
        const r = await oauth.protectedResourceRequest(
          token.access_token,
          "GET",
          new URL(`${resourceUrl}/interop`),
          new Headers(),
          null,
          { [oauth.customFetch]: fetchWith(dispatcher) },
        );
        return { status: r.status, body: await r.json() };
      } catch (error) {
        const response = /** @type {{ response?: Response }} */ (error).response;
        return {
          error: describeError(error),
          status: response?.status,
          wwwAuthenticate: response?.headers.get("www-authenticate") ?? undefined,
        };
      }
    };
    return {
      tokenEndpoint: as.mtls_endpoint_aliases?.token_endpoint,
      tokenType: token.token_type,
      accessToken: token.access_token,
      sameCertificate: await call(bound),
      otherCertificate: await call(other),
    };
  } finally {
    await Promise.all([bound.close(), other.close(), anonymous.close()]);
  }
});
