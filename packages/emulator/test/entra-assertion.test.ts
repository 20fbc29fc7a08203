import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate,
} from "node:crypto";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/core/credential-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index";
import { clientAssertion, formPost, jwtHeader, jwtPayload, send } from "./helpers";

let emu: Emulator;
let app: IssuedCertificate;
let key: KeyObject;
let cert: X509Certificate;
const APP = "2c1f7d3e-0000-4000-8000-00000000a55e";
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
let tokenUrl: string;
let signing: { privateKey: KeyObject };

beforeAll(async () => {
  signing = generateKeyPairSync("rsa", { modulusLength: 2048 });
  emu = await startEmulator({ signingKey: signing.privateKey });
  // Assertions need an RSA certificate (RS256/PS256).
  app = createCertificateAuthority().issue({ commonName: "assertion-app", keyType: "rsa" });
  key = createPrivateKey(app.keyPem);
  cert = app.certificate;
  emu.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
  tokenUrl = `${emu.authorityHost}/${emu.tenantId}/oauth2/v2.0/token`;
});
afterAll(async () => {
  await emu?.close();
});

const assertion = (overrides: Partial<Parameters<typeof clientAssertion>[0]> = {}) =>
  clientAssertion({ clientId: APP, audience: tokenUrl, key, certificate: cert, ...overrides });

const bearer = (fields: Record<string, string | undefined>, url = tokenUrl) =>
  send(
    url,
    formPost(
      Object.fromEntries(
        Object.entries({
          client_id: APP,
          grant_type: "client_credentials",
          scope: "https://graph.example/.default",
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: assertion(),
          ...fields,
        }).filter((e): e is [string, string] => e[1] !== undefined),
      ),
      { ca: emu.caCertificatePem },
    ),
  );

const expectInvalidClient = (r: Awaited<ReturnType<typeof send>>, pattern: RegExp) => {
  expect(r.status, r.body).toBe(401);
  expect(r.json.error).toBe("invalid_client");
  expect(r.json.error_description).toMatch(pattern);
};

describe("regular token endpoint, client assertion", () => {
  it("issues a Bearer token for a PS256 or RS256 assertion", async () => {
    for (const alg of ["PS256", "RS256"] as const) {
      const r = await bearer({ client_assertion: assertion({ alg }) });
      expect(r.status, r.body).toBe(200);
      expect(r.json).toMatchObject({ token_type: "Bearer", expires_in: 3600, ext_expires_in: 3600 });
      const claims = jwtPayload(r.json.access_token);
      expect(claims).toMatchObject({ aud: "https://graph.example", appid: APP, azp: APP, tid: emu.tenantId });
      expect(claims.cnf).toBeUndefined();
      expect(jwtHeader(r.json.access_token)).toMatchObject({ alg: "RS256", kid: expect.any(String) });
    }
  });

  it("finds the certificate by x5t (SHA-1) or x5c", async () => {
    const x5t = createHash("sha1").update(cert.raw).digest("base64url");
    const byX5t = await bearer({ client_assertion: assertion({ header: { "x5t#S256": undefined, x5t } }) });
    expect(byX5t.status, byX5t.body).toBe(200);
    const byX5c = await bearer({
      client_assertion: assertion({ header: { "x5t#S256": undefined, x5c: [cert.raw.toString("base64")] } }),
    });
    expect(byX5c.status, byX5c.body).toBe(200);
    const none = await bearer({ client_assertion: assertion({ header: { "x5t#S256": undefined } }) });
    expectInvalidClient(none, /names no certificate/);
  });

  // The header MSAL.NET's JsonWebToken.cs writes for RS256 with sendX5C: `x5t` (SHA-1) and x5c as
  // one string (the leaf), no `x5t#S256`.
  it("accepts an RS256 assertion in MSAL.NET's shape and names an unknown x5t in the error", async () => {
    const x5t = createHash("sha1").update(cert.raw).digest("base64url");
    const msalShape = { "x5t#S256": undefined, x5t, x5c: cert.raw.toString("base64") };
    const r = await bearer({ client_assertion: assertion({ alg: "RS256", header: msalShape }) });
    expect(r.status, r.body).toBe(200);
    const byLeafString = await bearer({
      client_assertion: assertion({ alg: "RS256", header: { ...msalShape, x5t: undefined } }),
    });
    expect(byLeafString.status, byLeafString.body).toBe(200);
    const other = createCertificateAuthority().issue({ commonName: "other-rs256", keyType: "rsa" });
    const otherX5t = createHash("sha1").update(other.certificate.raw).digest("base64url");
    const unknown = await bearer({
      client_assertion: assertion({
        alg: "RS256",
        key: createPrivateKey(other.keyPem),
        certificate: other.certificate,
        header: { "x5t#S256": undefined, x5t: otherX5t },
      }),
    });
    expectInvalidClient(
      unknown,
      new RegExp(`certificate '${otherX5t}' named by the assertion's x5t header is not registered`),
    );
  });

  it("rejects an assertion signed by an unregistered certificate or with a bad signature", async () => {
    const other = createCertificateAuthority().issue({ commonName: "other", keyType: "rsa" });
    const unregistered = await bearer({
      client_assertion: assertion({ key: createPrivateKey(other.keyPem), certificate: other.certificate }),
    });
    expectInvalidClient(unregistered, /^AADSTS700027: .*not registered/);
    // Registered thumbprint in the header, signed by another key.
    const forged = await bearer({ client_assertion: assertion({ key: createPrivateKey(other.keyPem) }) });
    expectInvalidClient(forged, /^AADSTS700027: Client assertion failed signature validation/);
    const tampered = assertion().split(".");
    tampered[1] = Buffer.from(JSON.stringify({ ...jwtPayload(tampered.join(".")), sub: "x" })).toString(
      "base64url",
    );
    expectInvalidClient(await bearer({ client_assertion: tampered.join(".") }), /signature validation/);
    expectInvalidClient(await bearer({ client_assertion: "not-a-jwt" }), /^AADSTS50027/);
  });

  it("rejects unsupported algorithms", async () => {
    const ec = createCertificateAuthority().issue({ commonName: "ec-app" });
    emu.registerConfidentialClient({ clientId: "ec-app", certificatePem: ec.certificatePem });
    const r = await bearer({
      client_id: "ec-app",
      client_assertion: clientAssertion({
        clientId: "ec-app",
        audience: tokenUrl,
        key: createPrivateKey(ec.keyPem),
        certificate: ec.certificate,
        alg: "ES256",
      }),
    });
    expectInvalidClient(r, /'ES256' is not a supported signature algorithm/);
  });

  it("checks iss, sub, aud, exp, nbf and jti", async () => {
    const now = Math.floor(Date.now() / 1000);
    expectInvalidClient(
      await bearer({ client_assertion: assertion({ claims: { iss: "someone" } }) }),
      /^AADSTS700021/,
    );
    expectInvalidClient(
      await bearer({ client_assertion: assertion({ claims: { sub: "someone" } }) }),
      /^AADSTS700021/,
    );
    expectInvalidClient(
      await bearer({
        client_assertion: assertion({ audience: `${emu.authorityHost}/common/oauth2/v2.0/token` }),
      }),
      /audience/,
    );
    expectInvalidClient(
      await bearer({
        client_assertion: assertion({ audience: "https://login.microsoftonline.com/x/oauth2/v2.0/token" }),
      }),
      /audience/,
    );
    expectInvalidClient(
      await bearer({ client_assertion: assertion({ claims: { exp: now - 120, nbf: now - 720 } }) }),
      /^AADSTS700024: .*expired/,
    );
    expectInvalidClient(
      await bearer({ client_assertion: assertion({ claims: { exp: undefined } }) }),
      /^AADSTS700024/,
    );
    expectInvalidClient(
      await bearer({ client_assertion: assertion({ claims: { nbf: now + 600, exp: now + 1200 } }) }),
      /^AADSTS700024: .*valid only from/,
    );
    // A little skew is fine.
    expect((await bearer({ client_assertion: assertion({ claims: { nbf: now + 30 } }) })).status).toBe(200);
    expectInvalidClient(await bearer({ client_assertion: assertion({ claims: { jti: undefined } }) }), /jti/);
    // Entra accepts a reused assertion: msal-node and @azure/identity sign one and reuse it for
    // about 10 minutes, so the emulator does too unless replay protection is asked for.
    const once = assertion();
    expect((await bearer({ client_assertion: once })).status).toBe(200);
    expect((await bearer({ client_assertion: once })).status).toBe(200);
  });

  it("refuses a reused assertion when replay protection is turned on (opt-in)", async () => {
    const lenient = await startEmulator({ signingKey: signing.privateKey, rejectReplayedAssertions: true });
    try {
      lenient.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
      const url = `${lenient.authorityHost}/${lenient.tenantId}/oauth2/v2.0/token`;
      const reused = clientAssertion({ clientId: APP, audience: url, key, certificate: cert });
      const post = () =>
        send(
          url,
          formPost(
            {
              client_id: APP,
              grant_type: "client_credentials",
              scope: "https://graph.example/.default",
              client_assertion_type: ASSERTION_TYPE,
              client_assertion: reused,
            },
            { ca: lenient.caCertificatePem },
          ),
        );
      expect((await post()).status).toBe(200);
      expectInvalidClient(await post(), /already used/);
    } finally {
      await lenient.close();
    }
  });

  it("accepts the token endpoint spelled with localhost", async () => {
    const localhostAud = tokenUrl.replace("127.0.0.1", "localhost");
    expect((await bearer({ client_assertion: assertion({ audience: localhostAud }) })).status).toBe(200);
  });

  it("rejects missing credentials, secrets, wrong assertion types and mtls_pop", async () => {
    const missing = await bearer({ client_assertion: undefined, client_assertion_type: undefined });
    expectInvalidClient(missing, /^AADSTS7000218/);
    const secret = await bearer({ client_assertion: undefined, client_secret: "hunter2" });
    expectInvalidClient(secret, /no client secret/);
    expect(secret.body).not.toContain("hunter2");
    const type = await bearer({ client_assertion_type: "urn:other" });
    expect(type.status).toBe(400);
    expect(type.json.error).toBe("invalid_request");
    const pop = await bearer({ token_type: "mtls_pop" });
    expect(pop.status).toBe(400);
    expect(pop.json.error_description).toMatch(/mTLS endpoint/);
  });

  it("rejects unknown clients, other tenants, /common and bad scopes", async () => {
    const unknown = await bearer({ client_id: "nobody" });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toBe("unauthorized_client");
    expect(unknown.json.error_description).toMatch(/^AADSTS700016/);
    const common = await bearer({}, `${emu.authorityHost}/common/oauth2/v2.0/token`);
    expect(common.status).toBe(400);
    expect(common.json.error).toBe("invalid_request");
    const scope = await bearer({ scope: "https://graph.example/User.Read" });
    expect(scope.json.error).toBe("invalid_scope");
    const grant = await bearer({ grant_type: "authorization_code" });
    expect(grant.json.error).toBe("unsupported_grant_type");
    const otherTenant = "0d4c3f1e-0000-4000-8000-0000000000ff";
    emu.registerConfidentialClient({
      clientId: "tenant-b-app",
      certificatePem: app.certificatePem,
      tenantId: otherTenant,
    });
    const wrongTenant = await bearer({
      client_id: "tenant-b-app",
      client_assertion: clientAssertion({
        clientId: "tenant-b-app",
        audience: tokenUrl,
        key,
        certificate: cert,
      }),
    });
    expect(wrongTenant.json.error).toBe("unauthorized_client");
    const rightTenantUrl = `${emu.authorityHost}/${otherTenant}/oauth2/v2.0/token`;
    const rightTenant = await bearer(
      {
        client_id: "tenant-b-app",
        client_assertion: clientAssertion({
          clientId: "tenant-b-app",
          audience: rightTenantUrl,
          key,
          certificate: cert,
        }),
      },
      rightTenantUrl,
    );
    expect(rightTenant.status, rightTenant.body).toBe(200);
    expect(jwtPayload(rightTenant.json.access_token).tid).toBe(otherTenant);
  });

  it("ignores the extra telemetry fields msal-node sends", async () => {
    const r = await bearer({
      "x-client-SKU": "msal.js.node",
      "x-client-VER": "7.2.3",
      "x-client-current-telemetry": "5|771,2,,,|,",
      "client-request-id": "c0ffee00-0000-4000-8000-000000000003",
    });
    expect(r.status, r.body).toBe(200);
  });
});

describe("discovery", () => {
  it("serves the OpenID configuration msal-node expects", async () => {
    const r = await send(`${emu.authorityHost}/${emu.tenantId}/v2.0/.well-known/openid-configuration`, {
      ca: emu.caCertificatePem,
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      issuer: `${emu.authorityHost}/${emu.tenantId}/v2.0`,
      token_endpoint: tokenUrl,
      authorization_endpoint: `${emu.authorityHost}/${emu.tenantId}/oauth2/v2.0/authorize`,
      jwks_uri: `${emu.authorityHost}/${emu.tenantId}/discovery/v2.0/keys`,
      mtls_endpoint_aliases: { token_endpoint: `${emu.mtlsAuthorityHost}/${emu.tenantId}/oauth2/v2.0/token` },
    });
    const common = await send(`${emu.authorityHost}/common/v2.0/.well-known/openid-configuration`, {
      ca: emu.caCertificatePem,
    });
    expect(common.json.issuer).toBe(`${emu.authorityHost}/{tenantid}/v2.0`);
    const unknown = await send(`${emu.authorityHost}/unknown-tenant/v2.0/.well-known/openid-configuration`, {
      ca: emu.caCertificatePem,
    });
    expect(unknown.status).toBe(400);
  });

  it("publishes the signing key; issued tokens verify with it", async () => {
    const jwks = await send(`${emu.authorityHost}/${emu.tenantId}/discovery/v2.0/keys`, {
      ca: emu.caCertificatePem,
    });
    const keys = jwks.json.keys as Array<Record<string, unknown>>;
    expect(keys).toHaveLength(1);
    const jwk = keys[0] as Record<string, unknown>;
    const token = String((await bearer({})).json.access_token);
    expect(jwtHeader(token).kid).toBe(jwk.kid);
    const { createPublicKey, verify } = await import("node:crypto");
    const publicKey = createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e } as never, format: "jwk" });
    const [h, p, s] = token.split(".") as [string, string, string];
    expect(verify("sha256", Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, "base64url"))).toBe(true);
    const x5c = new X509Certificate(Buffer.from(String((jwk.x5c as string[])[0]), "base64"));
    expect(x5c.verify(new X509Certificate(emu.caCertificatePem).publicKey)).toBe(true);
  });

  it("answers instance discovery", async () => {
    const authorize = encodeURIComponent(`${emu.authorityHost}/${emu.tenantId}/oauth2/v2.0/authorize`);
    const r = await send(
      `${emu.authorityHost}/common/discovery/instance?api-version=1.1&authorization_endpoint=${authorize}`,
      {
        ca: emu.caCertificatePem,
      },
    );
    expect(r.status).toBe(200);
    expect(r.json.tenant_discovery_endpoint).toBe(
      `${emu.authorityHost}/${emu.tenantId}/v2.0/.well-known/openid-configuration`,
    );
    const host = new URL(emu.authorityHost).host;
    expect(r.json.metadata).toEqual([
      expect.objectContaining({ preferred_network: host, aliases: expect.arrayContaining([host]) }),
    ]);
  });

  it("serves a certificate for localhost and 127.0.0.1 signed by the emulator CA", async () => {
    const { connect } = await import("node:tls");
    const port = Number(new URL(emu.authorityHost).port);
    for (const servername of ["localhost", undefined]) {
      const peer = await new Promise<X509Certificate>((resolve, reject) => {
        const socket = connect(
          { host: "127.0.0.1", port, ca: emu.caCertificatePem, ...(servername ? { servername } : {}) },
          () => {
            const certificate = socket.getPeerX509Certificate() as X509Certificate;
            socket.destroy();
            resolve(certificate);
          },
        );
        socket.on("error", reject);
      });
      expect(peer.subjectAltName).toContain("DNS:localhost");
      expect(peer.subjectAltName).toContain("IP Address:127.0.0.1");
    }
  });
});
