import { generateKeyPairSync, type KeyObject, X509Certificate } from "node:crypto";
import { rmSync } from "node:fs";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/core/credential-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index";
import { buildCsr, derToPem, formPost, jwtPayload, openssl, send, tempDir, writeIn } from "./helpers";

let emu: Emulator;
let rsa: { privateKey: KeyObject; publicKey: KeyObject };
let app: IssuedCertificate;
let stranger: IssuedCertificate;
let dir: string;
const APP = "6f3a0f0e-6a8e-4b8f-9d43-0f4c7c6a1111";

beforeAll(async () => {
  rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  emu = await startEmulator({ signingKey: rsa.privateKey });
  // Entra accepts self-signed client certificates: use one CA per cert, unknown to the emulator.
  app = createCertificateAuthority().issue({ commonName: "my-app" });
  stranger = createCertificateAuthority().issue({ commonName: "someone else" });
  emu.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
  dir = tempDir();
});
afterAll(async () => {
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

const popForm = (overrides: Record<string, string | undefined> = {}) =>
  Object.fromEntries(
    Object.entries({
      client_id: APP,
      grant_type: "client_credentials",
      scope: `${emu.resourceUrl}/.default`,
      client_info: "2",
      token_type: "mtls_pop",
      ...overrides,
    }).filter((e): e is [string, string] => e[1] !== undefined),
  );

const popToken = (
  form: Record<string, string>,
  identity: { certificatePem: string; keyPem: string } | null = app,
  options: { tenant?: string; headers?: Record<string, string> } = {},
) =>
  send(
    `${emu.mtlsAuthorityHost}/${options.tenant ?? emu.tenantId}/oauth2/v2.0/token`,
    formPost(form, {
      ca: emu.caCertificatePem,
      ...(identity ? { cert: identity.certificatePem, key: identity.keyPem } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    }),
  );

const expectEntraError = (r: Awaited<ReturnType<typeof send>>, status: number, error: string) => {
  expect(r.status, r.body).toBe(status);
  expect(r.json.error).toBe(error);
  expect(r.json.error_description).toMatch(/^AADSTS\d+: /);
  expect(r.json.error_codes).toEqual([Number(/^AADSTS(\d+)/.exec(String(r.json.error_description))?.[1])]);
  expect(r.json.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  expect(r.json.trace_id).toEqual(expect.any(String));
  expect(r.json.correlation_id).toEqual(expect.any(String));
};

describe("mTLS token endpoint, confidential client", () => {
  it("issues an mtls_pop token bound to the TLS client certificate", async () => {
    const r = await popToken(popForm(), app, {
      headers: {
        "client-request-id": "c0ffee00-0000-4000-8000-000000000001",
        "return-client-request-id": "true",
      },
    });
    expect(r.status, r.body).toBe(200);
    expect(r.headers["client-request-id"]).toBe("c0ffee00-0000-4000-8000-000000000001");
    expect(r.json).toMatchObject({ token_type: "mtls_pop", expires_in: 3600, ext_expires_in: 3600 });
    expect(r.json.refresh_in).toBeUndefined();
    const claims = jwtPayload(r.json.access_token);
    expect(claims).toMatchObject({
      aud: emu.resourceUrl,
      iss: `${emu.authorityHost}/${emu.tenantId}/v2.0`,
      tid: emu.tenantId,
      appid: APP,
      azp: APP,
      oid: expect.any(String),
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    // The thumbprint as openssl computes it: base64url(sha256(DER)).
    const pemFile = writeIn(dir, "app.pem", app.certificatePem);
    const der = openssl(dir, ["x509", "-in", pemFile, "-outform", "DER"]);
    const digest = openssl(dir, ["dgst", "-sha256", "-binary"], der);
    expect(claims.cnf).toEqual({ "x5t#S256": digest.toString("base64url") });
  });

  it("rejects a missing, unknown or unregistered client certificate", async () => {
    const none = await popToken(popForm(), null);
    expectEntraError(none, 401, "invalid_client");
    expect(none.json.error_description).toMatch(/No client certificate/);
    const unknown = await popToken(popForm(), stranger);
    expectEntraError(unknown, 401, "invalid_client");
    expect(unknown.json.error_description).toMatch(/^AADSTS700027: .*not registered/);
  });

  it("rejects an unknown client id as unauthorized_client", async () => {
    expectEntraError(await popToken(popForm({ client_id: "not-registered" })), 400, "unauthorized_client");
  });

  it("rejects a client assertion or client secret in the mTLS request", async () => {
    for (const extra of [
      {
        client_assertion: "x.y.z",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      },
      { client_secret: "s3cret" },
    ]) {
      const r = await popToken({ ...popForm(), ...extra });
      expectEntraError(r, 400, "invalid_request");
      expect(r.json.error_description).not.toContain("s3cret");
    }
  });

  it("requires exactly the protocol's fields", async () => {
    for (const missing of ["client_id", "grant_type", "scope", "token_type"]) {
      const r = await popToken(popForm({ [missing]: undefined }));
      expectEntraError(r, 400, "invalid_request");
      expect(r.json.error_description).toContain(`'${missing}'`);
    }
    expectEntraError(await popToken(popForm({ token_type: "bearer" })), 400, "invalid_request");
    expectEntraError(await popToken(popForm({ grant_type: "password" })), 400, "unsupported_grant_type");
    expectEntraError(await popToken({ ...popForm(), resource: "https://x" }), 400, "invalid_request");
    expectEntraError(await popToken(popForm({ claims: "not json" })), 400, "invalid_request");
    // client_info and claims are optional
    const minimal = await popToken(popForm({ client_info: undefined }));
    expect(minimal.status, minimal.body).toBe(200);
    const withClaims = await popToken(popForm({ claims: '{"access_token":{"xms_cc":{"values":["cp1"]}}}' }));
    expect(withClaims.status, withClaims.body).toBe(200);
    // a body that is not a form has no parameters
    const json = await send(`${emu.mtlsAuthorityHost}/${emu.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(popForm()),
      ca: emu.caCertificatePem,
      cert: app.certificatePem,
      key: app.keyPem,
    });
    expectEntraError(json, 400, "invalid_request");
  });

  it("rejects tenant-independent and unknown tenants", async () => {
    for (const tenant of ["common", "organizations"]) {
      expectEntraError(await popToken(popForm(), app, { tenant }), 400, "invalid_request");
    }
    expectEntraError(
      await popToken(popForm(), app, { tenant: "a-tenant-nobody-knows" }),
      400,
      "invalid_request",
    );
  });

  it("rejects scopes without /.default, several scopes, and scopes not allowed", async () => {
    expectEntraError(await popToken(popForm({ scope: emu.resourceUrl })), 400, "invalid_scope");
    expectEntraError(
      await popToken(popForm({ scope: "https://a/.default https://b/.default" })),
      400,
      "invalid_scope",
    );
    const limited = createCertificateAuthority().issue({ commonName: "limited" });
    emu.registerConfidentialClient({
      clientId: "limited-app",
      certificatePem: limited.certificatePem,
      allowedScopes: ["api://allowed/.default"],
    });
    const denied = await popToken(
      popForm({ client_id: "limited-app", scope: "api://other/.default" }),
      limited,
    );
    expectEntraError(denied, 400, "invalid_scope");
    const allowed = await popToken(
      popForm({ client_id: "limited-app", scope: "api://allowed/.default" }),
      limited,
    );
    expect(allowed.status, allowed.body).toBe(200);
    expect(jwtPayload(allowed.json.access_token).aud).toBe("api://allowed");
  });

  it("uses the client-request-id as correlation_id and echoes it only when asked", async () => {
    const id = "c0ffee00-0000-4000-8000-000000000002";
    const asked = await popToken(popForm({ scope: "bad" }), app, {
      headers: { "client-request-id": id, "return-client-request-id": "true" },
    });
    expect(asked.json.correlation_id).toBe(id);
    expect(asked.json.error_description).toContain(`Correlation ID: ${id}`);
    expect(asked.headers["client-request-id"]).toBe(id);
    const silent = await popToken(popForm({ scope: "bad" }), app, { headers: { "client-request-id": id } });
    expect(silent.headers["client-request-id"]).toBeUndefined();
  });

  it("adds a second registered certificate to the same client", async () => {
    const rotated = createCertificateAuthority().issue({ commonName: "my-app v2" });
    emu.registerConfidentialClient({ clientId: APP, certificatePem: rotated.certificatePem });
    expect((await popToken(popForm(), rotated)).status).toBe(200);
    expect((await popToken(popForm(), app)).status).toBe(200);
  });

  it("answers only the token path and only POST", async () => {
    const get = await send(`${emu.mtlsAuthorityHost}/${emu.tenantId}/oauth2/v2.0/token`, {
      ca: emu.caCertificatePem,
      cert: app.certificatePem,
      key: app.keyPem,
    });
    expectEntraError(get, 400, "invalid_request");
    const other = await send(
      `${emu.mtlsAuthorityHost}/${emu.tenantId}/v2.0/.well-known/openid-configuration`,
      {
        ca: emu.caCertificatePem,
      },
    );
    expect(other.status).toBe(404);
  });
});

describe("mTLS token endpoint, managed identity with an IMDS-issued certificate", () => {
  const mint = async (clientId: string, query = "") => {
    const meta = await send(
      `${emu.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0${query}`,
      {
        headers: { Metadata: "true" },
      },
    );
    const csr = buildCsr({
      ...rsa,
      tenantId: emu.tenantId,
      clientId,
      cuIdJson: JSON.stringify(meta.json.cuId),
    });
    const issued = await send(
      `${emu.imdsEndpoint}/metadata/identity/issuecredential?cred-api-version=2.0${query}`,
      {
        method: "POST",
        headers: { Metadata: "true", "content-type": "application/json" },
        body: JSON.stringify({ csr: csr.toString("base64") }),
      },
    );
    expect(issued.status, issued.body).toBe(200);
    return {
      certificatePem: derToPem(Buffer.from(String(issued.json.certificate), "base64")),
      keyPem: rsa.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
      endpoint: String(issued.json.mtls_authentication_endpoint),
    };
  };

  it("issues a PoP token to the system-assigned identity and the resource accepts it", async () => {
    const { clientId } = emu.systemAssignedIdentity;
    const identity = await mint(clientId);
    const r = await send(
      `${identity.endpoint}/${emu.tenantId}/oauth2/v2.0/token`,
      formPost(
        {
          grant_type: "client_credentials",
          client_id: clientId,
          scope: `${emu.resourceUrl}/.default`,
          token_type: "mtls_pop",
        },
        { ca: emu.caCertificatePem, cert: identity.certificatePem, key: identity.keyPem },
      ),
    );
    expect(r.status, r.body).toBe(200);
    const claims = jwtPayload(r.json.access_token);
    expect(claims.appid).toBe(clientId);
    expect(claims.oid).toBe(emu.systemAssignedIdentity.objectId);
    const pemFile = writeIn(dir, "mi.pem", identity.certificatePem);
    const der = openssl(dir, ["x509", "-in", pemFile, "-outform", "DER"]);
    expect(claims.cnf).toEqual({
      "x5t#S256": openssl(dir, ["dgst", "-sha256", "-binary"], der).toString("base64url"),
    });

    const call = await send(`${emu.resourceUrl}/items`, {
      headers: { authorization: `Bearer ${r.json.access_token}` },
      ca: emu.caCertificatePem,
      cert: identity.certificatePem,
      key: identity.keyPem,
    });
    expect(call.status, call.body).toBe(200);
    expect(call.json.tokenType).toBe("mtls_pop");
  });

  it("refuses a managed identity certificate presented for another identity or not from IMDS", async () => {
    const uami = emu.registerManagedIdentity();
    const systemCert = await mint(emu.systemAssignedIdentity.clientId);
    const form = {
      grant_type: "client_credentials",
      client_id: uami.clientId,
      scope: "https://x/.default",
      token_type: "mtls_pop",
    };
    const wrong = await popToken(form, systemCert);
    expectEntraError(wrong, 401, "invalid_client");
    expect(wrong.json.error_description).toMatch(/issued for/);
    const selfMade = createCertificateAuthority().issue({
      commonName: uami.clientId,
      subjectPrefix: [["0.9.2342.19200300.100.1.25", emu.tenantId]],
    });
    const forged = await popToken(form, selfMade);
    expectEntraError(forged, 401, "invalid_client");
    expect(forged.json.error_description).toMatch(/not issued by this machine/);
    const own = await mint(uami.clientId, `&client_id=${uami.clientId}`);
    const ok = await popToken(form, own);
    expect(ok.status, ok.body).toBe(200);
    expect(jwtPayload(ok.json.access_token).xms_mirid).toBe(uami.resourceId);
  });

  it("refuses an IMDS certificate once it has expired (emulator clock)", async () => {
    let now = Date.now();
    const clocked = await startEmulator({
      signingKey: rsa.privateKey,
      now: () => now,
      issuedCertificateLifetimeSeconds: 600,
    });
    try {
      const { clientId } = clocked.systemAssignedIdentity;
      const meta = await send(
        `${clocked.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0`,
        {
          headers: { Metadata: "true" },
        },
      );
      const csr = buildCsr({
        ...rsa,
        tenantId: clocked.tenantId,
        clientId,
        cuIdJson: JSON.stringify(meta.json.cuId),
      });
      const issued = await send(
        `${clocked.imdsEndpoint}/metadata/identity/issuecredential?cred-api-version=2.0`,
        {
          method: "POST",
          headers: { Metadata: "true", "content-type": "application/json" },
          body: JSON.stringify({ csr: csr.toString("base64") }),
        },
      );
      const cert = new X509Certificate(Buffer.from(String(issued.json.certificate), "base64"));
      expect(new Date(cert.validTo).getTime()).toBe(Math.floor((now + 600_000) / 1000) * 1000);
      const identity = {
        certificatePem: cert.toString(),
        keyPem: rsa.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
      };
      const form = {
        grant_type: "client_credentials",
        client_id: clientId,
        scope: "https://x/.default",
        token_type: "mtls_pop",
      };
      const url = `${clocked.mtlsAuthorityHost}/${clocked.tenantId}/oauth2/v2.0/token`;
      const tls = { ca: clocked.caCertificatePem, cert: identity.certificatePem, key: identity.keyPem };
      expect((await send(url, formPost(form, tls))).status).toBe(200);
      now += 601_000;
      const expired = await send(url, formPost(form, tls));
      expect(expired.status).toBe(401);
      expect(expired.json.error_description).toMatch(/valid from/);
    } finally {
      await clocked.close();
    }
  });
});

describe("token lifetime", () => {
  it("sends refresh_in at half-life when tokens live over 2 hours", async () => {
    const long = await startEmulator({ signingKey: rsa.privateKey, tokenLifetimeSeconds: 86400 });
    try {
      long.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
      const r = await send(
        `${long.mtlsAuthorityHost}/${long.tenantId}/oauth2/v2.0/token`,
        formPost(
          {
            client_id: APP,
            grant_type: "client_credentials",
            scope: "https://x/.default",
            token_type: "mtls_pop",
          },
          { ca: long.caCertificatePem, cert: app.certificatePem, key: app.keyPem },
        ),
      );
      expect(r.json).toMatchObject({ expires_in: 86400, refresh_in: 43200 });
    } finally {
      await long.close();
    }
  });
});
