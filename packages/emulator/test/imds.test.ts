import { generateKeyPairSync, type KeyObject, X509Certificate } from "node:crypto";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index";
import { buildCsr, derToPem, formPost, jwtPayload, openssl, send, tempDir, writeIn } from "./helpers";

let emu: Emulator;
let keys: { privateKey: KeyObject; publicKey: KeyObject };
let dir: string;
const META = { Metadata: "true" };

beforeAll(async () => {
  keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  emu = await startEmulator({ issuedCertificateLifetimeSeconds: 86400 * 3 });
  dir = tempDir();
});
afterAll(async () => {
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

const cuIdJson = async (query = "") => {
  const meta = await send(
    `${emu.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0${query}`,
    {
      headers: META,
    },
  );
  return JSON.stringify(meta.json.cuId);
};

const issue = (csr: string | Buffer, query = "", headers: Record<string, string> = {}) =>
  send(`${emu.imdsEndpoint}/metadata/identity/issuecredential?cred-api-version=2.0${query}`, {
    method: "POST",
    headers: { ...META, "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify({ csr: typeof csr === "string" ? csr : csr.toString("base64") }),
  });

const systemCsr = async (overrides: Partial<Parameters<typeof buildCsr>[0]> = {}) =>
  buildCsr({
    ...keys,
    tenantId: emu.tenantId,
    clientId: emu.systemAssignedIdentity.clientId,
    cuIdJson: await cuIdJson(),
    ...overrides,
  });

describe("IMDS v2 getplatformmetadata", () => {
  it("describes the system-assigned identity with an IMDS server header", async () => {
    const r = await send(`${emu.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0`, {
      headers: META,
    });
    expect(r.status).toBe(200);
    expect(r.headers.server).toBe("IMDS/150.870.65.1854");
    expect(r.json).toMatchObject({
      clientId: emu.systemAssignedIdentity.clientId,
      tenantId: emu.tenantId,
      cuId: { vmId: expect.any(String) },
    });
    expect(Object.keys(r.json.cuId as object)).toEqual(["vmId"]);
    expect(typeof r.json.attestationEndpoint).toBe("string");
  });

  it("requires the Metadata header and cred-api-version=2.0", async () => {
    const noHeader = await send(
      `${emu.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0`,
    );
    expect(noHeader.status).toBe(400);
    expect(noHeader.json.error).toBe("invalid_request");
    expect(String(noHeader.json.error_description)).toMatch(/metadata header/i);
    const noVersion = await send(`${emu.imdsEndpoint}/metadata/identity/getplatformmetadata`, {
      headers: META,
    });
    expect(noVersion.status).toBe(400);
  });

  it("refuses a request that came through a proxy", async () => {
    const r = await send(`${emu.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0`, {
      headers: { ...META, "X-Forwarded-For": "10.0.0.1" },
    });
    expect(r.status).toBe(400);
  });

  it("addresses user-assigned identities by client_id, object_id or mi_res_id", async () => {
    const uami = emu.registerManagedIdentity();
    for (const query of [
      `&client_id=${uami.clientId}`,
      `&object_id=${uami.objectId}`,
      `&mi_res_id=${encodeURIComponent(uami.resourceId)}`,
    ]) {
      const r = await send(
        `${emu.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0${query}`,
        {
          headers: META,
        },
      );
      expect(r.status, query).toBe(200);
      expect(r.json.clientId).toBe(uami.clientId);
    }
    const v1Param = await send(
      `${emu.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0&msi_res_id=${encodeURIComponent(uami.resourceId)}`,
      { headers: META },
    );
    expect(v1Param.status).toBe(400);
    const unknown = await send(
      `${emu.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0&client_id=00000000-0000-0000-0000-000000000000`,
      { headers: META },
    );
    expect(unknown.status).toBe(400);
    expect(String(unknown.json.error_description)).toMatch(/identity not found/i);
    const two = await send(
      `${emu.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0&client_id=${uami.clientId}&object_id=${uami.objectId}`,
      { headers: META },
    );
    expect(two.status).toBe(400);
  });

  it("answers 404 on a v1-only VM", async () => {
    const v1 = await startEmulator({ imdsV2: false, signingKey: keys.privateKey });
    try {
      const r = await send(`${v1.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0`, {
        headers: META,
      });
      expect(r.status).toBe(404);
      const token = await send(
        `${v1.imdsEndpoint}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://x`,
        { headers: META },
      );
      expect(token.status).toBe(200);
    } finally {
      await v1.close();
    }
  });

  it("puts vmssId in cuId when configured", async () => {
    const vmss = await startEmulator({ vmssId: "vmss-1", signingKey: keys.privateKey });
    try {
      const r = await send(
        `${vmss.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0`,
        {
          headers: META,
        },
      );
      expect(JSON.stringify(r.json.cuId)).toMatch(/^\{"vmId":"[^"]+","vmssId":"vmss-1"\}$/);
    } finally {
      await vmss.close();
    }
  });
});

describe("IMDS v2 issuecredential", () => {
  it("issues a certificate for the CSR's key, signed by the managed-identity CA", async () => {
    const r = await issue(await systemCsr());
    expect(r.status, r.body).toBe(200);
    expect(r.json).toMatchObject({
      client_id: emu.systemAssignedIdentity.clientId,
      tenant_id: emu.tenantId,
      identity_type: "SystemAssigned",
      mtls_authentication_endpoint: emu.mtlsAuthorityHost,
    });
    const certificate = String(r.json.certificate);
    expect(certificate).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const der = Buffer.from(certificate, "base64");
    const cert = new X509Certificate(der);
    expect(cert.subject).toBe(`DC=${emu.tenantId}\nCN=${emu.systemAssignedIdentity.clientId}`);
    expect(cert.publicKey.export({ type: "spki", format: "der" })).toEqual(
      keys.publicKey.export({ type: "spki", format: "der" }),
    );
    const lifetime = new Date(cert.validTo).getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(3 * 86400_000 - 120_000);
    expect(lifetime).toBeLessThanOrEqual(3 * 86400_000 + 1000);

    const caFile = writeIn(dir, "mi-ca.pem", emu.managedIdentityCaPem);
    const certFile = writeIn(dir, "issued.pem", derToPem(der));
    expect(
      openssl(dir, ["verify", "-purpose", "sslclient", "-CAfile", caFile, certFile]).toString(),
    ).toContain("issued.pem: OK");
    // ... and not against the server CA
    const serverCa = writeIn(dir, "server-ca.pem", emu.caCertificatePem);
    expect(() => openssl(dir, ["verify", "-CAfile", serverCa, certFile])).toThrow();
  });

  it("accepts a CSR made by openssl req with RSASSA-PSS and the cuId attribute", async () => {
    const keyFile = writeIn(dir, "k.pem", keys.privateKey.export({ type: "pkcs8", format: "pem" }) as string);
    const cuId = (await cuIdJson()).replace(/"/g, '\\"');
    const config = writeIn(
      dir,
      "req.cnf",
      [
        "oid_section = oids",
        "[ oids ]",
        "cuId = 1.3.6.1.4.1.311.90.2.10",
        "[ req ]",
        "prompt = no",
        "distinguished_name = dn",
        "attributes = attrs",
        "string_mask = utf8only",
        "[ dn ]",
        `DC = ${emu.tenantId}`,
        `CN = ${emu.systemAssignedIdentity.clientId}`,
        "[ attrs ]",
        `cuId = ${cuId}`,
        "",
      ].join("\n"),
    );
    const pss = openssl(dir, [
      "req",
      "-new",
      "-key",
      keyFile,
      "-config",
      config,
      "-sigopt",
      "rsa_padding_mode:pss",
      "-sigopt",
      "rsa_pss_saltlen:32",
      "-sha256",
      "-outform",
      "DER",
    ]);
    const accepted = await issue(pss);
    expect(accepted.status, accepted.body).toBe(200);

    const pkcs1 = openssl(dir, [
      "req",
      "-new",
      "-key",
      keyFile,
      "-config",
      config,
      "-sha256",
      "-outform",
      "DER",
    ]);
    const refused = await issue(pkcs1);
    expect(refused.status).toBe(400);
    expect(refused.json.error_description).toMatch(/RSASSA-PSS/);
  });

  // Issue 13 item 8. Follows MSAL.NET src/.../ManagedIdentity/V2/Csr.cs (.NET's CertificateRequest
  // and X500DistinguishedName): no parameters in the SHA-256 AlgorithmIdentifiers (RFC 5754) and a
  // GUID CN as PrintableString. The NULL form OpenSSL writes stays accepted.
  it("accepts .NET's CSR form (no NULL hash parameters, PrintableString CN) and the NULL form", async () => {
    const dotnet = await systemCsr({
      hashParameters: "absent",
      subject: [
        ["0.9.2342.19200300.100.1.25", emu.tenantId, "ia5"],
        ["2.5.4.3", emu.systemAssignedIdentity.clientId, "printable"],
      ],
    });
    expect(dotnet.toString("hex")).not.toContain("06096086480165030402010500");
    const accepted = await issue(dotnet);
    expect(accepted.status, accepted.body).toBe(200);
    const withNull = await issue(await systemCsr({ hashParameters: "null" }));
    expect(withNull.status, withNull.body).toBe(200);
  });

  it("refuses SHA-256 AlgorithmIdentifier parameters other than absent or NULL", async () => {
    const r = await issue(await systemCsr({ hashParameters: "junk" }));
    expect(r.status).toBe(400);
    expect(r.json.error_description).toMatch(/parameters must be absent \(RFC 5754\) or NULL/);
  });

  it("refuses a CSR signed with PKCS#1 v1.5", async () => {
    const r = await issue(await systemCsr({ signature: "pkcs1" }));
    expect(r.status).toBe(400);
    expect(r.json.error).toBe("invalid_request");
    expect(r.json.error_description).toMatch(/RSASSA-PSS/);
  });

  it("refuses a wrong subject", async () => {
    const other = emu.registerManagedIdentity();
    const cases: Array<NonNullable<Parameters<typeof buildCsr>[0]["subject"]>> = [
      [
        ["2.5.4.3", emu.systemAssignedIdentity.clientId, "utf8"],
        ["0.9.2342.19200300.100.1.25", emu.tenantId, "ia5"],
      ],
      [["2.5.4.3", emu.systemAssignedIdentity.clientId, "utf8"]],
      [
        ["0.9.2342.19200300.100.1.25", emu.tenantId, "ia5"],
        ["2.5.4.3", other.clientId, "utf8"],
      ],
      [
        ["0.9.2342.19200300.100.1.25", "another-tenant", "ia5"],
        ["2.5.4.3", emu.systemAssignedIdentity.clientId, "utf8"],
      ],
      [
        ["0.9.2342.19200300.100.1.25", emu.tenantId, "utf8"],
        ["2.5.4.3", emu.systemAssignedIdentity.clientId, "utf8"],
      ],
    ];
    for (const subject of cases) {
      const r = await issue(await systemCsr({ subject }));
      expect(r.status, JSON.stringify(subject)).toBe(400);
      expect(r.json.error_description).toMatch(/subject|DC|CN/);
    }
    // The other identity's CSR is refused at the system identity's address, accepted at its own.
    const theirs = buildCsr({
      ...keys,
      tenantId: emu.tenantId,
      clientId: other.clientId,
      cuIdJson: await cuIdJson(),
    });
    expect((await issue(theirs)).status).toBe(400);
    const own = await issue(theirs, `&client_id=${other.clientId}`);
    expect(own.status, own.body).toBe(200);
    expect(own.json.identity_type).toBe("UserAssigned");
  });

  it("refuses a tampered CSR", async () => {
    const csr = await systemCsr();
    // Flip one character of the CN inside the signed part: still DER, signature no longer matches.
    const at = csr.indexOf(Buffer.from(emu.systemAssignedIdentity.clientId));
    const tampered = Buffer.from(csr);
    tampered[at + 1] = (tampered[at + 1] as number) ^ 0x01;
    const r = await issue(tampered);
    expect(r.status).toBe(400);
    // Either the CN no longer matches or the signature fails; both are refusals.
    expect(r.json.error_description).toMatch(/CN|signature/);
    // Tamper the signature itself.
    const badSig = Buffer.from(csr);
    badSig[badSig.length - 1] = (badSig[badSig.length - 1] as number) ^ 0xff;
    const r2 = await issue(badSig);
    expect(r2.status).toBe(400);
    expect(r2.json.error_description).toMatch(/signature does not verify/);
  });

  it("refuses a wrong cuId, extra attributes and garbage", async () => {
    expect((await issue(await systemCsr({ cuIdJson: '{"vmId": "x"}' }))).json.error_description).toMatch(
      /cuId/,
    );
    expect((await issue(await systemCsr({ extraAttribute: true }))).json.error_description).toMatch(
      /exactly one attribute/,
    );
    expect((await issue(Buffer.from("not a csr"))).status).toBe(400);
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${(await systemCsr()).toString("base64")}\n-----END CERTIFICATE REQUEST-----`;
    expect((await issue(pem)).status).toBe(400);
    const notJson = await send(`${emu.imdsEndpoint}/metadata/identity/issuecredential?cred-api-version=2.0`, {
      method: "POST",
      headers: { ...META, "content-type": "application/json" },
      body: "{",
    });
    expect(notJson.status).toBe(400);
    const noCsr = await send(`${emu.imdsEndpoint}/metadata/identity/issuecredential?cred-api-version=2.0`, {
      method: "POST",
      headers: { ...META, "content-type": "application/json" },
      body: "{}",
    });
    expect(noCsr.status).toBe(400);
  });

  it("refuses an EC key", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    // The signature cannot be PSS with an EC key; sign with RSA but certify the EC key.
    const r = await issue(await systemCsr({ publicKey: ec.publicKey }));
    expect(r.status).toBe(400);
    expect(r.json.error_description).toMatch(/RSA key/);
  });
});

describe("IMDS v1 token and instance compute", () => {
  it("issues a Bearer token, also on msal-node's lower-cased path with a trailing slash", async () => {
    const resource = "https://vault.example";
    for (const path of ["/metadata/identity/oauth2/token?", "/metadata/identity/oauth2/token/?"]) {
      const r = await send(`${emu.imdsEndpoint}${path}api-version=2018-02-01&resource=${resource}`, {
        headers: META,
      });
      expect(r.status, r.body).toBe(200);
      expect(r.json).toMatchObject({
        token_type: "Bearer",
        resource,
        client_id: emu.systemAssignedIdentity.clientId,
        expires_in: "3600",
      });
      expect(Number(r.json.expires_on)).toBeGreaterThan(Date.now() / 1000 + 3500);
      const claims = jwtPayload(r.json.access_token);
      expect(claims).toMatchObject({
        aud: resource,
        tid: emu.tenantId,
        appid: emu.systemAssignedIdentity.clientId,
      });
      expect(claims.cnf).toBeUndefined();
    }
  });

  it("addresses user-assigned identities by client_id, object_id and msi_res_id (not mi_res_id)", async () => {
    const uami = emu.registerManagedIdentity({ clientId: "11111111-aaaa-bbbb-cccc-000000000001" });
    const base = `${emu.imdsEndpoint}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://x`;
    for (const q of [
      `&client_id=${uami.clientId}`,
      `&object_id=${uami.objectId}`,
      `&msi_res_id=${uami.resourceId}`,
    ]) {
      const r = await send(`${base}${q}`, { headers: META });
      expect(r.status, q).toBe(200);
      expect(r.json.client_id).toBe(uami.clientId);
    }
    // msal-node lower-cases the whole URL, resource id included.
    const lower = await send(`${base}&msi_res_id=${uami.resourceId.toLowerCase()}`.toLowerCase(), {
      headers: META,
    });
    expect(lower.status).toBe(200);
    expect((await send(`${base}&mi_res_id=${uami.resourceId}`, { headers: META })).status).toBe(400);
  });

  it("refuses requests without Metadata, without resource or api-version, or with a scope as resource", async () => {
    const base = `${emu.imdsEndpoint}/metadata/identity/oauth2/token`;
    expect((await send(`${base}?api-version=2018-02-01&resource=https://x`)).status).toBe(400);
    expect((await send(`${base}?api-version=2018-02-01`, { headers: META })).status).toBe(400);
    expect((await send(`${base}?resource=https://x`, { headers: META })).status).toBe(400);
    const scope = await send(`${base}?api-version=2018-02-01&resource=https://x/.default`, { headers: META });
    expect(scope.status).toBe(400);
    expect(scope.json.error).toBe("invalid_resource");
    expect((await send(base, formPost({ resource: "https://x" }, { headers: META }))).status).toBe(405);
  });

  it("serves /metadata/instance/compute with the location", async () => {
    const r = await send(`${emu.imdsEndpoint}/metadata/instance/compute?api-version=2021-02-01`, {
      headers: META,
    });
    expect(r.status).toBe(200);
    expect(r.json.location).toBe("westus3");
    expect((await send(`${emu.imdsEndpoint}/metadata/instance/compute?api-version=2021-02-01`)).status).toBe(
      400,
    );
    expect((await send(`${emu.imdsEndpoint}/metadata/nothing`, { headers: META })).status).toBe(404);
  });
});
