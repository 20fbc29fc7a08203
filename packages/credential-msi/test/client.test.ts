import { CertboundError, type HttpRequest, ServiceError } from "@certbound/core";
import { describe, expect, it } from "vitest";
import { createInMemoryKeyProvider, createManagedIdentityClient } from "../src/index";
import type { ManagedIdentityClientOptions } from "../src/options";
import { CLIENT, fakeImds, IMDS, MTLS, TENANT } from "./helpers/fake-imds";
import { fakeTransport, json, pathOf, queryOf } from "./helpers/fake-transport";
import { testKeyProvider } from "./helpers/keys";
import { testClient } from "./helpers/test-client";

const PLATFORM = "/metadata/identity/getplatformmetadata";
const ISSUE = "/metadata/identity/issuecredential";
const TOKEN = `/${TENANT}/oauth2/v2.0/token`;

describe("IMDS v2 PoP flow (in-memory IMDS)", () => {
  it("sends getplatformmetadata, issuecredential with the CSR, then the token request over mTLS", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    const result = await msi.acquireToken({
      resource: "https://vault.azure.net/.default",
      mtlsProofOfPossession: true,
      correlationId: "corr-1",
    });
    const [platform, issue, token] = imds.transport.requests as [HttpRequest, HttpRequest, HttpRequest];
    expect(imds.transport.requests.map(pathOf)).toEqual([PLATFORM, ISSUE, TOKEN]);

    expect(platform.method).toBe("GET");
    expect(platform.url).toBe(`${IMDS}${PLATFORM}?cred-api-version=2.0`);
    expect(platform.headers).toEqual({ metadata: "true", "x-ms-client-request-id": "corr-1" });
    expect(platform.proxy).toBe("never");

    expect(issue.method).toBe("POST");
    expect(issue.url).toBe(`${IMDS}${ISSUE}?cred-api-version=2.0`);
    expect(issue.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(issue.proxy).toBe("never");
    const { csr } = JSON.parse(issue.body as string) as { csr: string };
    expect(csr).toMatch(/^[A-Za-z0-9+/]+=*$/);

    expect(token.url).toBe(`${MTLS}${TOKEN}`);
    expect(Object.fromEntries(new URLSearchParams(token.body as string))).toEqual({
      grant_type: "client_credentials",
      client_id: CLIENT,
      scope: "https://vault.azure.net/.default",
      token_type: "mtls_pop",
    });
    expect(token.headers["client-request-id"]).toBe("corr-1");
    expect(token.clientIdentity).toBe(result.bindingCertificate);

    expect(result.tokenType).toBe("mtls_pop");
    expect(result.accessToken).toBe(`pop-${result.bindingCertificate?.x5tS256}`);
    expect(result.tenantId).toBe(TENANT);
    expect(result.scopes).toEqual(["https://vault.azure.net/.default"]);
    expect(result.metadata).toMatchObject({
      tokenSource: "identity_provider",
      correlationId: "corr-1",
      tokenEndpoint: `${MTLS}${TOKEN}`,
    });

    const again = await msi.acquireToken({
      resource: "https://vault.azure.net",
      mtlsProofOfPossession: true,
    });
    expect(again.metadata.tokenSource).toBe("cache");
    expect(again.accessToken).toBe(result.accessToken);
    expect(imds.transport.requests).toHaveLength(3);
  });

  it("strips a trailing slash for the scope and never serves a PoP token to a Bearer request", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    await msi.acquireToken({ resource: "https://management.azure.com/", mtlsProofOfPossession: true });
    const token = imds.transport.requests.find((r) => pathOf(r) === TOKEN) as HttpRequest;
    expect(new URLSearchParams(token.body as string).get("scope")).toBe(
      "https://management.azure.com/.default",
    );
    const bearer = await msi.acquireToken({ resource: "https://management.azure.com/" });
    expect(bearer).toMatchObject({
      tokenType: "Bearer",
      accessToken: "bearer-imds",
      bindingCertificate: undefined,
    });
    const v1 = imds.transport.requests.at(-1) as HttpRequest;
    expect(queryOf(v1)).toEqual({ "api-version": "2018-02-01", resource: "https://management.azure.com/" });
  });

  it("re-mints once after a failed TLS handshake and after invalid_client, but not twice", async () => {
    let failures = 1;
    const imds = fakeImds((_request, path) =>
      path === TOKEN && failures-- > 0
        ? new CertboundError("tls_handshake_failed", "the server refused the client certificate")
        : undefined,
    );
    const { msi } = testClient(imds.transport);
    const result = await msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: true });
    expect(result.tokenType).toBe("mtls_pop");
    expect(imds.issued).toBe(2);
    // The re-mint reads getplatformmetadata again (issue 13 item 10).
    expect(imds.count(PLATFORM)).toBe(2);

    const invalid = fakeImds((_request, path) =>
      path === TOKEN
        ? json(401, { error: "invalid_client", error_description: "AADSTS700027: bad cert" })
        : undefined,
    );
    const second = testClient(invalid.transport).msi;
    const error = await second
      .acquireToken({ resource: "https://r", mtlsProofOfPossession: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ code: "service_error", errorCode: "invalid_client", status: 401 });
    expect(invalid.issued).toBe(2);
    expect(invalid.count(TOKEN)).toBe(2);
  });

  it("other token endpoint errors do not re-mint", async () => {
    const imds = fakeImds((_r, path) => (path === TOKEN ? json(400, { error: "invalid_scope" }) : undefined));
    const { msi } = testClient(imds.transport);
    await expect(
      msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: true }),
    ).rejects.toMatchObject({
      errorCode: "invalid_scope",
    });
    expect(imds.issued).toBe(1);
  });

  it("a token of another type is never accepted for a PoP request", async () => {
    const imds = fakeImds((_r, path) =>
      path === TOKEN ? json(200, { access_token: "a", token_type: "Bearer", expires_in: 3600 }) : undefined,
    );
    const { msi } = testClient(imds.transport);
    await expect(
      msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: true }),
    ).rejects.toMatchObject({
      code: "token_type_mismatch",
    });
  });

  it("a v1-only VM fails with mtls_pop_token_not_supported_in_imds_v1 after the IMDS retries", async () => {
    const imds = fakeImds((_r, path) =>
      path === PLATFORM ? json(404, {}, { server: "IMDS/1" }) : undefined,
    );
    const { msi, clock } = testClient(imds.transport);
    await expect(
      msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: true }),
    ).rejects.toMatchObject({
      code: "mtls_pop_token_not_supported_in_imds_v1",
    });
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
    expect(imds.count(PLATFORM)).toBe(4);
    expect(imds.count(ISSUE)).toBe(0);
  });

  it("mints a new certificate (and token) once less than 24 hours of validity remain", async () => {
    const imds = fakeImds();
    const { msi, clock } = testClient(imds.transport);
    const first = await msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: true });
    const notAfter = first.bindingCertificate?.notAfter.getTime() as number;
    await clock.advance(notAfter - clock.now() - 24 * 3600_000);
    const second = await msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: true });
    expect(imds.issued).toBe(2);
    expect(second.metadata.tokenSource).toBe("identity_provider");
  });

  it("sends the user-assigned parameter on v2 calls and keys identities apart", async () => {
    // A user-assigned client id must be the one IMDS answers for: the fake IMDS answers CLIENT.
    for (const [option, parameter, id] of [
      ["clientId", "client_id", CLIENT],
      ["objectId", "object_id", "id-1"],
      ["resourceId", "mi_res_id", "id-1"],
    ] as const) {
      const imds = fakeImds();
      const { msi } = testClient(imds.transport, { [option]: id });
      await msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: true });
      for (const request of imds.transport.requests.filter((r) => pathOf(r).startsWith("/metadata"))) {
        expect(queryOf(request)).toEqual({ "cred-api-version": "2.0", [parameter]: id });
      }
    }
  });

  it("asks the key provider once per mint, with the identity key", async () => {
    const keyProvider = testKeyProvider();
    const imds = fakeImds();
    const { msi } = testClient(imds.transport, { keyProvider, objectId: "o-1" });
    await msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: true });
    await msi.acquireToken({ resource: "https://other", mtlsProofOfPossession: true });
    expect(keyProvider.calls).toEqual(["objectId:o-1"]);
  });

  it("refuses a certificate IMDS issued for another key", async () => {
    const other = createInMemoryKeyProvider();
    const imds = fakeImds();
    const { msi } = testClient(imds.transport, { keyProvider: other });
    await expect(
      msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: true }),
    ).rejects.toMatchObject({
      code: "invalid_certificate",
    });
  });
});

describe("environment rules", () => {
  const appService = { IDENTITY_ENDPOINT: "http://127.0.0.1:1/msi/token", IDENTITY_HEADER: "h" };

  it("PoP outside IMDS is mtls_pop_not_supported_for_environment, before any request", async () => {
    const transport = fakeTransport(() => json(500, {}));
    for (const env of [
      appService,
      { ...appService, IDENTITY_SERVER_THUMBPRINT: "a".repeat(40) },
      { MSI_ENDPOINT: "http://127.0.0.1:1/", MSI_SECRET: "s" },
      { MSI_ENDPOINT: "http://127.0.0.1:1/" },
      { IDENTITY_ENDPOINT: "http://127.0.0.1:1/", IMDS_ENDPOINT: "http://127.0.0.1:1" },
    ]) {
      const { msi } = testClient(transport, { env });
      await expect(
        msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: true }),
      ).rejects.toMatchObject({
        code: "mtls_pop_not_supported_for_environment",
      });
    }
    expect(transport.requests).toHaveLength(0);
  });

  it("user-assigned identities where the source has none are managed_identity_unsupported_identity", async () => {
    const transport = fakeTransport(() => json(500, {}));
    const cases: Array<[Record<string, string>, Partial<ManagedIdentityClientOptions>]> = [
      [{ MSI_ENDPOINT: "http://127.0.0.1:1/" }, { clientId: "c" }],
      [{ IDENTITY_ENDPOINT: "http://127.0.0.1:1/", IMDS_ENDPOINT: "http://127.0.0.1:1" }, { objectId: "o" }],
      [{ ...appService, IDENTITY_SERVER_THUMBPRINT: "a".repeat(40) }, { clientId: "c" }],
      [{ MSI_ENDPOINT: "http://127.0.0.1:1/", MSI_SECRET: "s" }, { resourceId: "/subscriptions/x" }],
    ];
    for (const [env, identity] of cases) {
      const { msi } = testClient(transport, { env, ...identity });
      await expect(msi.acquireToken({ resource: "https://r" })).rejects.toMatchObject({
        code: "managed_identity_unsupported_identity",
      });
    }
    expect(transport.requests).toHaveLength(0);
  });

  it("AZURE_POD_IDENTITY_AUTHORITY_HOST from the injected env moves IMDS", async () => {
    const transport = fakeTransport(() => json(200, { access_token: "t", expires_in: 3600 }));
    const { msi } = testClient(transport, {
      env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://127.0.0.1:9/" },
    });
    await msi.acquireToken({ resource: "https://r" });
    expect(transport.requests[0]?.url).toBe(
      "http://127.0.0.1:9/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fr",
    );
  });
});

describe("Bearer request shapes", () => {
  const thumbprint = "0123456789abcdef0123456789abcdef01234567";
  const cases: Array<{
    name: string;
    env: Record<string, string>;
    identity?: Partial<ManagedIdentityClientOptions>;
    method: string;
    query: Record<string, string>;
    headers: Record<string, string>;
    body?: string;
    pinned?: string;
  }> = [
    {
      name: "IMDS v1 with a resource id",
      env: {},
      identity: { resourceId: "/subscriptions/s/rg/id" },
      method: "GET",
      query: { "api-version": "2018-02-01", resource: "https://r", msi_res_id: "/subscriptions/s/rg/id" },
      headers: { metadata: "true" },
    },
    {
      name: "App Service with a client id",
      env: { IDENTITY_ENDPOINT: "http://127.0.0.1:1/msi/token", IDENTITY_HEADER: "app-secret" },
      identity: { clientId: "c-1" },
      method: "GET",
      query: { "api-version": "2019-08-01", resource: "https://r", client_id: "c-1" },
      headers: { "x-identity-header": "app-secret" },
    },
    {
      name: "App Service with a resource id",
      env: { IDENTITY_ENDPOINT: "http://127.0.0.1:1/msi/token", IDENTITY_HEADER: "app-secret" },
      identity: { resourceId: "/subscriptions/s" },
      method: "GET",
      query: { "api-version": "2019-08-01", resource: "https://r", mi_res_id: "/subscriptions/s" },
      headers: { "x-identity-header": "app-secret" },
    },
    {
      name: "Service Fabric with an object id",
      env: {
        IDENTITY_ENDPOINT: "https://127.0.0.1:2377/metadata/identity/oauth2/token",
        IDENTITY_HEADER: "sf-secret",
        IDENTITY_SERVER_THUMBPRINT: thumbprint,
      },
      identity: { objectId: "p-1" },
      method: "GET",
      query: { "api-version": "2020-05-01", resource: "https://r", principalId: "p-1" },
      headers: { secret: "sf-secret" },
      pinned: thumbprint,
    },
    {
      name: "Machine Learning, system identity with DEFAULT_IDENTITY_CLIENT_ID",
      env: {
        MSI_ENDPOINT: "http://127.0.0.1:1/token",
        MSI_SECRET: "ml-secret",
        DEFAULT_IDENTITY_CLIENT_ID: "d-1",
      },
      method: "GET",
      query: { "api-version": "2017-09-01", resource: "https://r", clientid: "d-1" },
      headers: { secret: "ml-secret", metadata: "true" },
    },
    {
      name: "Cloud Shell",
      env: { MSI_ENDPOINT: "http://127.0.0.1:1/token" },
      method: "POST",
      query: {},
      headers: { metadata: "true", "content-type": "application/x-www-form-urlencoded" },
      body: "resource=https%3A%2F%2Fr",
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const transport = fakeTransport(() =>
        json(200, { access_token: "t", expires_on: String(Math.floor(Date.now() / 1000) + 3600) }),
      );
      const { msi } = testClient(transport, { env: c.env, ...c.identity });
      const result = await msi.acquireToken({ resource: "https://r/.default" });
      expect(result).toMatchObject({ tokenType: "Bearer", accessToken: "t" });
      const request = transport.requests[0] as HttpRequest;
      expect(request.method).toBe(c.method);
      expect(queryOf(request)).toEqual(c.query);
      expect(request.headers).toMatchObject(c.headers);
      expect(request.headers["x-ms-client-request-id"]).toBe(result.metadata.correlationId);
      expect(request.proxy).toBe("never");
      expect(request.body).toBe(c.body);
      expect(request.pinnedServerThumbprint).toBe(c.pinned);
    });
  }

  it("retries other sources on max(1 s, Retry-After)", async () => {
    const transport = fakeTransport((_r, i) =>
      i < 2
        ? json(503, {}, { "retry-after": i === 0 ? "5" : "0" })
        : json(200, { access_token: "t", expires_in: 60 }),
    );
    const { msi, clock } = testClient(transport, { env: { MSI_ENDPOINT: "http://127.0.0.1:1/" } });
    await msi.acquireToken({ resource: "https://r" });
    expect(clock.sleeps).toEqual([5000, 1000]);
  });
});

describe("getManagedIdentitySource", () => {
  it("probes getplatformmetadata on IMDS: 200 is PoP-capable, 404 (not retried) is not", async () => {
    const v2 = fakeImds();
    expect(await testClient(v2.transport).msi.getManagedIdentitySource()).toEqual({
      source: "imds",
      mtlsProofOfPossession: true,
    });
    const v1 = fakeImds((_r, path) => (path === PLATFORM ? json(404, {}) : undefined));
    const { msi, clock } = testClient(v1.transport);
    expect(await msi.getManagedIdentitySource()).toEqual({ source: "imds", mtlsProofOfPossession: false });
    expect(v1.transport.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it("reports other sources without a request", async () => {
    const transport = fakeTransport(() => json(500, {}));
    const { msi } = testClient(transport, { env: { MSI_ENDPOINT: "http://127.0.0.1:1/" } });
    expect(await msi.getManagedIdentitySource()).toEqual({
      source: "cloudShell",
      mtlsProofOfPossession: false,
    });
    expect(transport.requests).toHaveLength(0);
  });
});

describe("logging", () => {
  it("logs the mint and re-mint without tokens, keys or secrets", async () => {
    const lines: string[] = [];
    const logger = {
      level: "verbose" as const,
      log: (level: string, message: string, fields?: Readonly<Record<string, unknown>>) =>
        lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`),
    };
    let failures = 1;
    const imds = fakeImds((_r, path) =>
      path === TOKEN && failures-- > 0 ? json(401, { error: "invalid_client" }) : undefined,
    );
    const pop = await testClient(imds.transport, { logger }).msi.acquireToken({
      resource: "https://r",
      mtlsProofOfPossession: true,
    });
    const appService = fakeTransport(() =>
      json(200, { access_token: "bearer-secret-token", expires_in: 3600 }),
    );
    await testClient(appService, {
      logger,
      env: { IDENTITY_ENDPOINT: "http://127.0.0.1:1/msi/token", IDENTITY_HEADER: "header-secret" },
    }).msi.acquireToken({ resource: "https://r" });

    const text = lines.join("\n");
    expect(text).toContain("minted an IMDS v2 binding certificate");
    expect(text).toContain("rejected the binding certificate");
    for (const secret of [
      pop.accessToken,
      "bearer-secret-token",
      "header-secret",
      pop.bindingCertificate?.privateKey.export({ type: "pkcs8", format: "pem" }).toString().split("\n")[1] ??
        "x",
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("options and lifecycle", () => {
  const transport = fakeTransport(() => json(500, {}));

  it("refuses a misspelt request key on every call, before any request (PoP never becomes Bearer)", async () => {
    const sent: unknown[] = [];
    const msi = createManagedIdentityClient({
      transport: fakeTransport((request) => {
        sent.push(request);
        return json(500, {});
      }),
      env: {},
    });
    for (const [request, message] of [
      [
        { resource: "https://vault.azure.net", mtlsProofOfPossesion: true },
        "Unknown option `mtlsProofOfPossesion` in the acquireToken request; did you mean `mtlsProofOfPossession`?",
      ],
      [{ resource: "https://vault.azure.net", forcerefresh: true }, "did you mean `forceRefresh`?"],
      [{ resorce: "https://vault.azure.net" }, "did you mean `resource`?"],
    ] as const) {
      await expect(msi.acquireToken(request as never)).rejects.toMatchObject({
        code: "invalid_options",
        message: expect.stringContaining(message),
      });
    }
    expect(sent).toHaveLength(0);
    msi.close();
  });

  it("validates eagerly with messages that say how to fix it", () => {
    const build = (options: unknown) => () =>
      createManagedIdentityClient(options as ManagedIdentityClientOptions);
    expect(build({})).toThrow(/@certbound\/http-undici.*@certbound\/http-axios/);
    expect(build({ transport, clientId: "a", objectId: "b" })).toThrow(/at most one/);
    expect(build({ transport, client_id: "a" })).toThrow(
      /Unknown option `client_id` in createManagedIdentityClient options; did you mean `clientId`\?/,
    );
    expect(build({ transport, clientId: " " })).toThrow(/`clientId`/);
    expect(build({ transport, imdsEndpoint: "169.254.169.254" })).toThrow(/imdsEndpoint/);
    expect(build({ transport, env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: "nope" } })).toThrow(
      /AZURE_POD_IDENTITY_AUTHORITY_HOST/,
    );
    expect(build({ transport, keyProvider: {} })).toThrow(/getKey/);
    expect(build({ transport, ca: [1] })).toThrow(/`ca`/);
    expect(build({ transport, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(build({ transport, clock: { now: () => 0 } })).toThrow(/clock/);
    const error = (() => {
      try {
        build({})();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ code: "invalid_options" });
  });

  it("checks each request", async () => {
    const { msi } = testClient(transport);
    await expect(msi.acquireToken({ resource: "" })).rejects.toMatchObject({ code: "invalid_options" });
    await expect(msi.acquireToken({ resource: "https://a https://b" })).rejects.toThrow(/one resource/);
    await expect(msi.acquireToken({ resource: "/.default" })).rejects.toThrow(/before `\/\.default`/);
    await expect(
      msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: "yes" as unknown as boolean }),
    ).rejects.toThrow(/boolean/);
    expect(transport.requests).toHaveLength(0);
  });

  it("close() ends the client", async () => {
    const imds = fakeImds();
    const { msi } = testClient(imds.transport);
    await msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: true });
    msi.close();
    await expect(
      msi.acquireToken({ resource: "https://r", mtlsProofOfPossession: true }),
    ).rejects.toMatchObject({
      code: "aborted",
    });
  });

  it("the default key provider generates one RSA-2048 key per identity and keeps it", async () => {
    const keys = createInMemoryKeyProvider();
    const [a, b] = await Promise.all([keys.getKey("system"), keys.getKey("system")]);
    expect(a).toBe(b);
    expect(a.privateKey.asymmetricKeyType).toBe("rsa");
    expect(a.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    keys.clear();
  });
});
