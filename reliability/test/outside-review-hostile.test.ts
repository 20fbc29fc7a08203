// Outside review, hostile servers and bad input (issue 12, items 13, 14, 17, 18, 20): what an
// independent review broke by running the packages against servers it wrote itself. Each test is
// written from the attacker's side: the server lies, echoes the secrets it was sent, floods a field,
// injects CR/LF and terminal escapes, redirects, or presents a certificate nobody trusts; the
// input carries CR/LF or userinfo. Real sockets on 127.0.0.1, certificates made at run time.
import { randomUUID, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent as HttpsAgent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { type HttpTransport, isCertboundError, ResourceCaller, type TokenResult } from "@certbound/core";
import { REDACTED, SERVER_TEXT_LIMITS } from "@certbound/core/credential-kit";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import { createAxiosTransport } from "@certbound/http-axios";
import { createUndiciTransport } from "@certbound/http-undici";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  createLoopbackLookup,
  createTestClock,
  type HttpsTestServer,
  type IssuedCertificate,
  startHttpsTestServer,
  startHttpTestServer,
  type TestRequestHandler,
  type TestServer,
} from "@certbound/testing";
import axios from "axios";
import { interceptors, Agent as UndiciAgent } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

// C0, DEL, C1 and the bidi/line-separator characters sanitising removes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const ESCAPES = "\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202e";

let ca: CertificateAuthority;
let app: IssuedCertificate;
let transports: HttpTransport[] = [];
const servers: Array<{ close(): Promise<void> }> = [];

type TransportName = "undici" | "axios";
const TRANSPORTS: readonly TransportName[] = ["undici", "axios"];

// A transport's attempt timeout runs on a clock that never moves by itself: no test waits on it.
const transportClock = () => createTestClock({ autoAdvance: false });

function makeTransport(name: TransportName): HttpTransport {
  const clock = transportClock();
  const transport = name === "undici" ? createUndiciTransport({ clock }) : createAxiosTransport({ clock });
  transports.push(transport);
  return transport;
}

async function https(handler: TestRequestHandler): Promise<HttpsTestServer> {
  const server = await startHttpsTestServer({ authority: ca, handler });
  servers.push(server);
  return server;
}

async function http(handler: TestRequestHandler): Promise<TestServer> {
  const server = await startHttpTestServer({ handler });
  servers.push(server);
  return server;
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code: string }> {
  try {
    await promise;
  } catch (error) {
    expect(isCertboundError(error), `expected a CertboundError, got ${inspect(error)}`).toBe(true);
    return error as Error & { code: string };
  }
  throw new Error("expected a rejection");
}

/** Everything a user could see of an error: message, fields, cause chain, inspect output. */
const visible = (error: unknown) => inspect(error, { depth: 8, showHidden: true });

function json(res: Parameters<TestRequestHandler>[1], status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function certClient(server: TestServer, transport: HttpTransport) {
  return createConfidentialClient({
    clientId: randomUUID(),
    authority: `${server.origin}/${randomUUID()}`,
    authorityHost: server.origin,
    certificate: { certificatePem: app.certificatePem, privateKey: app.privateKey },
    transport,
    ca: ca.certificatePem,
    env: {},
    clock: createTestClock({ now: Date.now() }),
  });
}

/** The form fields of a recorded urlencoded body. */
const form = (body: string) => Object.fromEntries(new URLSearchParams(body));

beforeAll(() => {
  ca = createCertificateAuthority({ commonName: "outside review CA" });
  app = ca.issue({ commonName: "outside review app", keyType: "rsa" });
});

afterEach(async () => {
  await Promise.all(transports.map((t) => t.close?.()));
  transports = [];
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe.each(TRANSPORTS)("item 13: server text in errors is sanitised (%s)", (name) => {
  it("a 900 KB `error` with CR/LF and terminal escapes gives a short, clean message and capped fields", async () => {
    const huge = `invalid_client\r\nX-Forged-Log: admin logged in${ESCAPES}${"A".repeat(900 * 1024)}`;
    const server = await https((_req, res) =>
      json(res, 400, {
        error: huge,
        error_description: `AADSTS7000215: bad\r\nTrace ID: 1${ESCAPES}\n${"d".repeat(20_000)}`,
        suberror: `bad_token\r\n${ESCAPES}${"s".repeat(10_000)}`,
        correlation_id: `c0ffee\r\nX-Injected: 1${"c".repeat(10_000)}`,
        trace_id: `t\u0000${"t".repeat(10_000)}`,
        claims: `{"access_token":\n{"nbf":{"essential":true}}}`,
        error_codes: Array.from({ length: 1000 }, (_, i) => i),
      }),
    );
    const error = await rejection(
      certClient(server, makeTransport(name)).acquireTokenForClient({ scopes: ["api://x/.default"] }),
    );
    const fields = error as unknown as Record<string, unknown>;
    expect(error.code).toBe("service_error");
    expect(error.message.length).toBeLessThan(1024);
    expect(error.message).not.toMatch(CONTROL);
    expect(error.message).toContain("invalid_client");
    for (const [field, max] of [
      ["errorCode", SERVER_TEXT_LIMITS.code],
      ["errorDescription", SERVER_TEXT_LIMITS.description],
      ["suberror", SERVER_TEXT_LIMITS.code],
      ["correlationId", SERVER_TEXT_LIMITS.id],
      ["traceId", SERVER_TEXT_LIMITS.id],
    ] as const) {
      const value = fields[field];
      expect(typeof value, field).toBe("string");
      expect(value as string, field).not.toMatch(CONTROL);
      // The cap plus the "... (N more characters)" note.
      expect((value as string).length, field).toBeLessThanOrEqual(max + 40);
    }
    expect(fields.errorCodes as number[]).toHaveLength(32);
    // A claims challenge stays valid JSON: control characters become spaces, nothing is cut.
    expect(JSON.parse(fields.claims as string)).toEqual({ access_token: { nbf: { essential: true } } });
    expect(visible(error).length).toBeLessThan(64 * 1024);
  });

  it("a managed-identity source's nested { error: { code, message } } is sanitised the same way", async () => {
    const server = await http((_req, res) =>
      json(res, 400, {
        error: { code: `Bad\r\n${ESCAPES}${"x".repeat(800 * 1024)}`, message: `m\r\nforged${ESCAPES}` },
      }),
    );
    const client = createManagedIdentityClient({
      transport: makeTransport(name),
      env: { IDENTITY_ENDPOINT: `${server.origin}/msi/token`, IDENTITY_HEADER: randomUUID() },
      clock: createTestClock({ now: Date.now() }),
      fileExists: () => false,
    });
    const error = await rejection(client.acquireToken({ resource: "https://vault.azure.net" }));
    const fields = error as unknown as Record<string, unknown>;
    expect(error.message.length).toBeLessThan(1024);
    expect(error.message).not.toMatch(CONTROL);
    expect(fields.errorCode as string).not.toMatch(CONTROL);
    expect((fields.errorCode as string).length).toBeLessThanOrEqual(SERVER_TEXT_LIMITS.code + 40);
    expect(fields.errorDescription).toBe("m forged [2J ]0;pwned 31m");
  });

  it("Azure Arc: the challenge path a server names is cleaned and capped in the refusal", async () => {
    const folder = mkdtempSync(join(tmpdir(), "certbound-arc-"));
    // Node's server refuses C0 in a header; C1 (NEL 0x85, CSI 0x9b) passes as latin-1.
    const named = `/nonexistent/\u0085forged\u009b2J${"d".repeat(3000)}.key`;
    const server = await http((_req, res) => {
      res.writeHead(401, { "www-authenticate": `Basic realm=${named}` });
      res.end();
    });
    const client = createManagedIdentityClient({
      transport: makeTransport(name),
      env: { IDENTITY_ENDPOINT: `${server.origin}/arc/token`, IMDS_ENDPOINT: server.origin },
      clock: createTestClock({ now: Date.now() }),
      fileExists: () => false,
      arcTokenFolder: folder,
    });
    try {
      const error = await rejection(client.acquireToken({ resource: "https://vault.azure.net" }));
      expect(error.message).toContain("Refused the Azure Arc challenge");
      expect(error.message).not.toMatch(CONTROL);
      expect(error.message.length).toBeLessThan(1200);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("a resource's WWW-Authenticate text is sanitised", async () => {
    const server = await https((_req, res) => {
      res.writeHead(401, {
        // Node's server refuses C0 in a header; C1 (CSI 0x9b, NEL 0x85) passes as latin-1.
        "www-authenticate": `Bearer error="invalid_token", error_description="expired\u009b31m\u0085forged${"z".repeat(5000)}"`,
      });
      res.end();
    });
    const caller = new ResourceCaller({ transport: makeTransport(name), ca: ca.certificatePem });
    const error = await rejection(caller.call(bearerResult("tok-".repeat(8)), `${server.origin}/r`));
    expect(error.message).not.toMatch(CONTROL);
    expect(error.message.length).toBeLessThan(1024);
  });
});

function bearerResult(accessToken: string): TokenResult {
  return {
    accessToken,
    tokenType: "Bearer",
    expiresOn: new Date(Date.now() + 3_600_000),
    scopes: ["api://x/.default"],
    metadata: {} as TokenResult["metadata"],
  };
}

describe.each(TRANSPORTS)("item 14: secrets a server echoes back are redacted (%s)", (name) => {
  it("confidential client, Bearer with assertion: the echoed client_assertion (whole, signature, URL-encoded) never shows", async () => {
    let assertion = "";
    const server = await https((_req, res, recorded) => {
      assertion = form(recorded.body).client_assertion ?? "";
      const signature = assertion.split(".")[2] ?? "";
      json(res, 401, {
        error: `invalid_client ${signature}`,
        error_description: `AADSTS700027: the assertion ${assertion} is not valid\r\nsignature: ${signature}`,
        suberror: encodeURIComponent(assertion),
        correlation_id: signature.slice(0, 30),
        claims: JSON.stringify({ echoed: assertion }),
      });
    });
    const error = await rejection(
      certClient(server, makeTransport(name)).acquireTokenForClient({ scopes: ["api://x/.default"] }),
    );
    expect(assertion.split(".")).toHaveLength(3);
    const seen = visible(error);
    for (const part of [assertion, ...assertion.split(".").slice(1)]) expect(seen).not.toContain(part);
    expect(seen).not.toContain(encodeURIComponent(assertion));
    expect(error.message).toContain(REDACTED);
  });

  it("ResourceCaller: a resource echoing the access token in WWW-Authenticate shows nothing of it", async () => {
    const token = `eyJhbGciOiJSUzI1NiJ9.${"p".repeat(40)}.${"s".repeat(43)}`;
    const server = await https((_req, res) => {
      res.writeHead(401, {
        "www-authenticate": `Bearer error="invalid_token", error_description="token ${token} sig ${token.split(".")[2]} expired"`,
      });
      res.end();
    });
    const caller = new ResourceCaller({ transport: makeTransport(name), ca: ca.certificatePem });
    const error = await rejection(caller.call(bearerResult(token), `${server.origin}/r`));
    const seen = visible(error);
    expect(seen).not.toContain(token);
    expect(seen).not.toContain(token.split(".")[2]);
    expect(error.message).toContain(REDACTED);
  });

  const SOURCES = [
    {
      source: "App Service",
      header: "x-identity-header",
      env: (origin: string, secret: string) => ({
        IDENTITY_ENDPOINT: `${origin}/msi`,
        IDENTITY_HEADER: secret,
      }),
      tls: false,
    },
    {
      source: "Service Fabric",
      header: "secret",
      env: (origin: string, secret: string, thumbprint?: string) => ({
        IDENTITY_ENDPOINT: `${origin}/msi`,
        IDENTITY_HEADER: secret,
        IDENTITY_SERVER_THUMBPRINT: thumbprint ?? "",
      }),
      tls: true,
    },
    {
      source: "Machine Learning",
      header: "secret",
      env: (origin: string, secret: string) => ({ MSI_ENDPOINT: `${origin}/msi`, MSI_SECRET: secret }),
      tls: false,
    },
  ] as const;

  it("Azure Arc: the echoed Basic secret read from the challenge file never shows", async () => {
    const folder = mkdtempSync(join(tmpdir(), "certbound-arc-"));
    const secret = `arc-${randomUUID()}${randomUUID()}`.replace(/-/g, "");
    writeFileSync(join(folder, "challenge.key"), secret);
    let received = "";
    const server = await http((req, res) => {
      if (!req.headers.authorization) {
        res.writeHead(401, { "www-authenticate": `Basic realm=${join(folder, "challenge.key")}` });
        res.end();
        return;
      }
      received = req.headers.authorization;
      json(res, 400, {
        error: `bad ${received}`,
        error_description: `the key ${secret} and ${received} are wrong`,
      });
    });
    const client = createManagedIdentityClient({
      transport: makeTransport(name),
      env: { IDENTITY_ENDPOINT: `${server.origin}/arc/token`, IMDS_ENDPOINT: server.origin },
      clock: createTestClock({ now: Date.now() }),
      fileExists: () => false,
      arcTokenFolder: folder,
    });
    try {
      const error = await rejection(client.acquireToken({ resource: "https://vault.azure.net" }));
      expect(received).toBe(`Basic ${secret}`);
      expect(visible(error)).not.toContain(secret);
      expect(error.message).toContain(REDACTED);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  for (const { source, header, env, tls } of SOURCES) {
    it(`${source}: the echoed secret header value never shows`, async () => {
      const secret = `sentinel-${randomUUID()}-${randomUUID()}`;
      let received: string | undefined;
      const handler: TestRequestHandler = (_req, res, recorded) => {
        received = String(recorded.headers[header]);
        json(res, 401, {
          error: {
            code: `Unauthorized ${received}`,
            message: `bad secret header ${received}\r\nwas ${received}`,
          },
        });
      };
      const server = tls ? await https(handler) : await http(handler);
      const thumbprint =
        tls && "certificate" in server
          ? new X509Certificate((server as HttpsTestServer).certificate.certificatePem).fingerprint.replace(
              /:/g,
              "",
            )
          : undefined;
      const client = createManagedIdentityClient({
        transport: makeTransport(name),
        env: env(server.origin, secret, thumbprint),
        clock: createTestClock({ now: Date.now() }),
        fileExists: () => false,
      });
      const error = await rejection(client.acquireToken({ resource: "https://vault.azure.net" }));
      expect(received, error.message).toBe(secret);
      expect(visible(error)).not.toContain(secret);
      expect(error.message).toContain(REDACTED);
    });
  }
});

describe.each(TRANSPORTS)("item 17: ResourceCaller refuses http:// (%s)", (name) => {
  it("a PoP or Bearer token is never sent in clear: invalid_options before any I/O", async () => {
    const server = await http((_req, res) => {
      res.end("ok");
    });
    const caller = new ResourceCaller({ transport: makeTransport(name) });
    const error = await rejection(caller.call(bearerResult("tok-".repeat(8)), `${server.origin}/secrets`));
    expect(error.code).toBe("invalid_options");
    expect(error.message).toContain("https://");
    const pop = {
      ...bearerResult("tok-".repeat(8)),
      tokenType: "mtls_pop",
      bindingCertificate: app,
    } as never;
    expect((await rejection(caller.call(pop, `${server.origin}/secrets`))).code).toBe("invalid_options");
    expect((await rejection(caller.call(pop, "not a url"))).code).toBe("invalid_options");
    expect(server.requests).toHaveLength(0);
    expect(server.connections).toBe(0);
  });
});

describe.each(TRANSPORTS)(
  "item 18: correlationId and IMDS endpoints are validated before any I/O (%s)",
  (name) => {
    const BAD_IDS = [
      ["CR/LF", "abc\r\nx-injected: 1"],
      ["a space", "abc def"],
      ["a control character", "abc\u0007"],
      ["129 characters", "a".repeat(129)],
      ["an empty string", ""],
    ] as const;

    for (const [label, correlationId] of BAD_IDS) {
      it(`a correlationId with ${label} fails with invalid_options; no request is sent, nothing retried`, async () => {
        const server = await https((_req, res) => json(res, 500, {}));
        const cert = certClient(server, makeTransport(name));
        const e1 = await rejection(
          cert.acquireTokenForClient({ scopes: ["api://x/.default"], correlationId }),
        );
        const msi = createManagedIdentityClient({
          transport: makeTransport(name),
          env: { IDENTITY_ENDPOINT: `${server.origin}/msi`, IDENTITY_HEADER: "h".repeat(16) },
          clock: createTestClock({ now: Date.now() }),
          fileExists: () => false,
        });
        const e2 = await rejection(msi.acquireToken({ resource: "https://vault.azure.net", correlationId }));
        for (const error of [e1, e2]) {
          expect(error.code).toBe("invalid_options");
          expect(error.message).toContain("correlationId");
          expect(error.message).not.toMatch(CONTROL);
        }
        expect(server.requests).toHaveLength(0);
      });
    }

    it("a UUID correlationId is sent as it is", async () => {
      const server = await https((_req, res) =>
        json(res, 200, { access_token: "t".repeat(20), token_type: "Bearer", expires_in: 3600 }),
      );
      const correlationId = randomUUID();
      const cert = certClient(server, makeTransport(name));
      await cert.acquireTokenForClient({ scopes: ["api://x/.default"], correlationId });
      expect(server.requests[0]?.headers["client-request-id"]).toBe(correlationId);
    });

    it("imdsEndpoint or AZURE_POD_IDENTITY_AUTHORITY_HOST with user:pass@ is refused at construction", () => {
      const transport = makeTransport(name);
      for (const options of [
        { imdsEndpoint: "http://user:pass@169.254.169.254", env: {} },
        { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://169.254.169.254@attacker.example" } },
        { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://:secret@127.0.0.1:8080" } },
      ]) {
        let error: unknown;
        try {
          createManagedIdentityClient({ transport, fileExists: () => false, ...options });
        } catch (caught) {
          error = caught;
        }
        expect((error as { code?: string })?.code).toBe("invalid_options");
        expect(String((error as Error).message)).toContain("user name or password");
        expect(String((error as Error).message)).not.toContain("secret@");
      }
    });
  },
);

describe("item 20: an app's dispatcher or axios instance cannot weaken TLS or follow redirects", () => {
  let untrusted: HttpsTestServer;
  let redirecting: HttpsTestServer;
  let lookup: ReturnType<typeof createLoopbackLookup>;
  const SECRET = `Bearer sentinel-${randomUUID()}`;

  beforeAll(async () => {
    lookup = createLoopbackLookup();
    // A server whose certificate nobody here trusts (its own CA, never passed anywhere).
    untrusted = await startHttpsTestServer({
      authority: createCertificateAuthority({ commonName: "hostile self-made CA" }),
      handler: (_req, res) => {
        res.end("got it");
      },
    });
    redirecting = await startHttpsTestServer({
      authority: ca,
      handler: (req, res) => {
        if (req.url?.startsWith("/start")) res.writeHead(302, { location: "/stolen" }).end();
        else res.end("followed");
      },
    });
    servers.push(untrusted, redirecting);
  });

  // A name that is neither loopback nor link-local, so an app's dispatcher is eligible; it
  // resolves to 127.0.0.1 through the lookups below.
  const host = (server: TestServer) => `https://api.example.test:${server.port}`;

  it("undici: an Agent with rejectUnauthorized: false never gets a request carrying a secret", async () => {
    const insecure = new UndiciAgent({ connect: { rejectUnauthorized: false, lookup } });
    const transport = createUndiciTransport({ dispatcher: insecure, lookup, clock: transportClock() });
    transports.push(transport);
    const error = await rejection(
      transport.send({
        method: "POST",
        url: `${host(untrusted)}/token`,
        headers: { authorization: SECRET },
        body: "client_assertion=x",
        proxy: "environment",
      }),
    );
    expect(error.code).toBe("tls_handshake_failed");
    expect(untrusted.requests).toHaveLength(0);
    await insecure.close();
  });

  it("undici: a dispatcher with a redirect interceptor follows nothing, with or without a secret", async () => {
    const app = new UndiciAgent({ connect: { ca: ca.certificatePem, lookup } }).compose(
      interceptors.redirect({ maxRedirections: 5 }),
    );
    const transport = createUndiciTransport({
      dispatcher: app,
      ca: ca.certificatePem,
      lookup,
      clock: createTestClock({ now: Date.now() }),
    });
    transports.push(transport);
    for (const headers of [{ authorization: SECRET }, {}]) {
      redirecting.reset();
      const response = await transport.send({
        method: "GET",
        url: `${host(redirecting)}/start`,
        headers,
        proxy: "environment",
      });
      expect(response.status).toBe(302);
      expect(redirecting.requests.map((r) => r.path)).toEqual(["/start"]);
    }
    await app.close();
  });

  it("axios: defaults and request interceptors setting an insecure httpsAgent or maxRedirects are overridden", async () => {
    const insecureAgent = new HttpsAgent({ rejectUnauthorized: false, lookup } as never);
    const instance = axios.create({ maxRedirects: 5, httpsAgent: insecureAgent });
    instance.interceptors.request.use((config) => {
      config.httpsAgent = insecureAgent;
      config.maxRedirects = 5;
      config.transport = undefined;
      config.decompress = true;
      return config;
    });
    const transport = createAxiosTransport({ axios: instance, lookup, clock: transportClock() });
    transports.push(transport);
    const error = await rejection(
      transport.send({ method: "GET", url: `${host(untrusted)}/token`, headers: { authorization: SECRET } }),
    );
    expect(error.code).toBe("tls_handshake_failed");
    expect(untrusted.requests).toHaveLength(0);

    redirecting.reset();
    const response = await transport.send({
      method: "GET",
      url: `${host(redirecting)}/start`,
      headers: { authorization: SECRET },
      ca: ca.certificatePem,
    });
    expect(response.status).toBe(302);
    expect(redirecting.requests.map((r) => r.path)).toEqual(["/start"]);
    insecureAgent.destroy();
  });
});
