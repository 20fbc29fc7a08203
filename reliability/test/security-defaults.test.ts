// Security defaults, each a test: TLS verification cannot be switched off by an option, managed
// identity endpoints are never proxied and never redirected, http:// authorities are refused, the
// Azure Arc challenge reads only small files in the agent's folder, and the managed-identity key
// never reaches the disk.
import { randomBytes } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { Agent as HttpsAgent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CertboundErrorCode,
  type HttpRequest,
  type HttpTransport,
  isCertboundError,
  ResourceCaller,
} from "@certbound/core";
import { createConfidentialClient } from "@certbound/credential-cert";
import { createManagedIdentityClient } from "@certbound/credential-msi";
import type { EndpointName } from "@certbound/emulator";
import { isAlwaysDirect as axiosAlwaysDirect, createAxiosTransport } from "@certbound/http-axios";
import { createUndiciTransport, isAlwaysDirect as undiciAlwaysDirect } from "@certbound/http-undici";
import {
  type ConnectProxy,
  createLoopbackLookup,
  type HttpsTestServer,
  startConnectProxy,
  startHttpsTestServer,
  startHttpTestServer,
  type TestServer,
} from "@certbound/testing";
import axios from "axios";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordingTransport } from "./support/recording-transport";
import { type SourceName, startWorld, type World } from "./support/world";

let world: World;
let untrusted: HttpsTestServer;
let elsewhere: TestServer;

beforeAll(async () => {
  world = await startWorld();
  untrusted = await startHttpsTestServer({
    authority: world.foreignCa,
    handler: (_req, res) => {
      res.end("{}");
    },
  });
  elsewhere = await startHttpTestServer({
    handler: (_req, res) => {
      res.end('{"access_token":"stolen"}');
    },
  });
});
afterAll(async () => {
  await untrusted?.close();
  await elsewhere?.close();
  await world?.close();
});

async function codeOf(promise: Promise<unknown>): Promise<CertboundErrorCode | "resolved" | "untyped"> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return isCertboundError(error) ? error.code : "untyped";
  }
}

// Options that would turn verification off if they were passed through. Casts: they are not part
// of the types, which is the point of checking that they have no effect at run time.
const insecure = () => new HttpsAgent({ rejectUnauthorized: false });
const skipIdentity = () => undefined;
type Factory = (lookup: ReturnType<typeof createLoopbackLookup>) => HttpTransport;
const TLS_VARIANTS: ReadonlyArray<readonly [string, Factory]> = [
  ["undici, defaults", (lookup) => createUndiciTransport({ lookup })],
  [
    "undici, agentOptions with rejectUnauthorized: false and a connect override",
    (lookup) =>
      createUndiciTransport({
        lookup,
        agentOptions: {
          rejectUnauthorized: false,
          connect: { rejectUnauthorized: false, checkServerIdentity: skipIdentity },
        },
      } as never),
  ],
  [
    "undici, agentOptions with a connect override naming a servername the certificate has",
    (lookup) =>
      createUndiciTransport({ lookup, agentOptions: { connect: { servername: "localhost" } } } as never),
  ],
  ["axios, defaults", (lookup) => createAxiosTransport({ lookup })],
  [
    "axios, agentOptions with rejectUnauthorized: false",
    (lookup) => createAxiosTransport({ lookup, agentOptions: { rejectUnauthorized: false } } as never),
  ],
  [
    "axios, agentOptions with checkServerIdentity skipping the host name check",
    (lookup) => createAxiosTransport({ lookup, agentOptions: { checkServerIdentity: skipIdentity } }),
  ],
  [
    "axios, agentOptions with a servername the certificate names",
    (lookup) => createAxiosTransport({ lookup, agentOptions: { servername: "localhost" } }),
  ],
  [
    "axios, an axios config with an insecure httpsAgent",
    (lookup) => createAxiosTransport({ lookup, axios: { httpsAgent: insecure() } }),
  ],
  [
    "axios, an axios instance with an insecure httpsAgent",
    (lookup) => createAxiosTransport({ lookup, axios: axios.create({ httpsAgent: insecure() }) }),
  ],
];

/**
 * Until the returned function is called, `process.emitWarning` drops Node's warning about
 * NODE_TLS_REJECT_UNAUTHORIZED=0 and passes every other warning on.
 */
function swallowTlsRejectWarning(): () => void {
  const original = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning.message;
    if (text.includes("NODE_TLS_REJECT_UNAUTHORIZED")) return;
    return (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  return () => {
    process.emitWarning = original;
  };
}

describe("TLS verification cannot be switched off", () => {
  // `rejectUnauthorized` is not an option of either transport: it is refused outright (no
  // transport is built), rather than accepted and ignored.
  it.each([
    ["undici", () => createUndiciTransport({ rejectUnauthorized: false } as never)],
    ["axios", () => createAxiosTransport({ rejectUnauthorized: false } as never)],
  ])("%s: a top-level rejectUnauthorized: false is refused at construction", async (_name, make) => {
    expect(await codeOf((async () => make())())).toBe("invalid_options");
  });

  it.each(TLS_VARIANTS)("%s: an untrusted server and a wrong host name are refused", async (_name, make) => {
    const lookup = createLoopbackLookup();
    const transport = make(lookup);
    const resourcePort = new URL(world.emu.resourceUrl).port;
    try {
      untrusted.reset();
      const base: HttpRequest = {
        method: "GET",
        url: `${untrusted.origin}/`,
        headers: {},
        timeoutMs: 10_000,
      };
      const cases: Array<readonly [string, HttpRequest]> = [
        ["untrusted CA", base],
        ["untrusted CA, trusting another CA", { ...base, ca: world.emu.caCertificatePem }],
        [
          "untrusted CA, rejectUnauthorized: false on the request",
          { ...base, rejectUnauthorized: false } as HttpRequest,
        ],
        // The emulator's certificate names localhost and 127.0.0.1, not this host.
        [
          "trusted CA, wrong host name",
          { ...base, url: `https://api.example.test:${resourcePort}/`, ca: world.emu.caCertificatePem },
        ],
      ];
      const outcomes: Record<string, string> = {};
      for (const [label, request] of cases) outcomes[label] = await codeOf(transport.send(request));
      const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
      // Node warns once per process that this variable makes TLS insecure. That warning is the
      // point of this case, not news for whoever runs the suite: keep exactly that one off stderr.
      const restoreWarnings = swallowTlsRejectWarning();
      try {
        outcomes["untrusted CA, NODE_TLS_REJECT_UNAUTHORIZED=0"] = await codeOf(transport.send(base));
      } finally {
        restoreWarnings();
        if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
        else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
      }
      expect(outcomes).toEqual({
        "untrusted CA": "tls_handshake_failed",
        "untrusted CA, trusting another CA": "tls_handshake_failed",
        "untrusted CA, rejectUnauthorized: false on the request": "tls_handshake_failed",
        "trusted CA, wrong host name": "tls_handshake_failed",
        "untrusted CA, NODE_TLS_REJECT_UNAUTHORIZED=0": "tls_handshake_failed",
      });
      expect(untrusted.requests).toEqual([]);
    } finally {
      await transport.close?.();
    }
  });

  it("the clients cannot switch it off either (rejectUnauthorized in their options)", async () => {
    const { emu } = world;
    const transport = createUndiciTransport();
    try {
      world.freshClock();
      // No `ca`: the emulator's certificate is not trusted, whatever the options say.
      const app = createConfidentialClient({
        clientId: world.app.clientId,
        authority: `${emu.authorityHost}/${emu.tenantId}`,
        authorityHost: emu.authorityHost,
        mtlsAuthorityHost: emu.mtlsAuthorityHost,
        certificate: {
          certificatePem: world.app.certificate.certificatePem,
          privateKey: world.app.certificate.privateKey,
        },
        transport,
        env: {},
        clock: world.clock,
      });
      expect(
        await codeOf(
          app.acquireTokenForClient({ scopes: [`${emu.resourceUrl}/.default`], mtlsProofOfPossession: true }),
        ),
      ).toBe("tls_handshake_failed");
      // Not an option of the client: refused outright rather than accepted and ignored.
      expect(
        await codeOf(
          (async () =>
            createConfidentialClient({
              clientId: world.app.clientId,
              authority: `${emu.authorityHost}/${emu.tenantId}`,
              certificate: {
                certificatePem: world.app.certificate.certificatePem,
                privateKey: world.app.certificate.privateKey,
              },
              transport,
              rejectUnauthorized: false,
            } as never))(),
        ),
      ).toBe("invalid_options");
      expect(
        await codeOf(
          (async () =>
            createManagedIdentityClient({
              transport,
              env: emu.managedIdentityEnvironment("imds"),
              rejectUnauthorized: false,
            } as never))(),
        ),
      ).toBe("invalid_options");
      app.close();
    } finally {
      await transport.close();
    }
  });
});

/** The emulator's managed-identity environment with host names instead of 127.0.0.1. */
function namedEnvironment(source: SourceName): Record<string, string> {
  const env = world.emu.managedIdentityEnvironment(source);
  for (const [name, value] of Object.entries(env)) {
    env[name] = value.replaceAll("127.0.0.1", `${source.toLowerCase()}.reliability.test`);
  }
  return env;
}

describe("managed-identity endpoints are never proxied", () => {
  let proxy: ConnectProxy;
  beforeAll(async () => {
    proxy = await startConnectProxy();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const PROXIED: ReadonlyArray<
    readonly [string, (lookup: ReturnType<typeof createLoopbackLookup>) => HttpTransport]
  > = [
    [
      "undici, proxy option",
      (lookup) => createUndiciTransport({ lookup, proxy: { httpsProxy: proxy.url, httpProxy: proxy.url } }),
    ],
    [
      "undici, HTTPS_PROXY/HTTP_PROXY environment",
      (lookup) => withProxyEnvironment(() => createUndiciTransport({ lookup, proxy: true })),
    ],
    [
      "axios, proxy option",
      (lookup) => createAxiosTransport({ lookup, proxy: { httpsProxy: proxy.url, httpProxy: proxy.url } }),
    ],
    [
      "axios, HTTPS_PROXY/HTTP_PROXY environment",
      (lookup) => withProxyEnvironment(() => createAxiosTransport({ lookup, proxy: true })),
    ],
  ];

  function withProxyEnvironment<T>(make: () => T): T {
    const names = ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy"];
    const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
    for (const n of names) delete process.env[n];
    process.env.HTTPS_PROXY = proxy.url;
    process.env.HTTP_PROXY = proxy.url;
    try {
      return make();
    } finally {
      for (const n of names) {
        const value = saved[n];
        if (value === undefined) delete process.env[n];
        else process.env[n] = value;
      }
    }
  }

  it.each(PROXIED)(
    "%s: IMDS (v1 and v2), every other source and region detection go direct",
    async (_name, make) => {
      const { emu } = world;
      const lookup = createLoopbackLookup();
      const inner = make(lookup);
      const transport = recordingTransport(inner);
      proxy.reset();
      try {
        // The proxy is live: a request that may use it does.
        const probe = await transport.send({
          method: "GET",
          url: `${elsewhere.origin.replace("127.0.0.1", "elsewhere.reliability.test")}/probe`,
          headers: {},
          proxy: "environment",
          timeoutMs: 10_000,
        });
        expect(probe.status).toBe(200);
        expect(proxy.tunnels.length).toBe(1);
        proxy.reset();

        world.freshClock();
        const imds = namedEnvironment("imds");
        const popClient = world.msiClient("imds", { transport, env: imds });
        await expect(
          popClient.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true }),
        ).resolves.toMatchObject({
          tokenType: "mtls_pop",
        });
        await expect(popClient.acquireToken({ resource: emu.resourceUrl })).resolves.toMatchObject({
          tokenType: "Bearer",
        });
        popClient.close();
        for (const source of [
          "appService",
          "serviceFabric",
          "azureArc",
          "cloudShell",
          "machineLearning",
        ] as const) {
          const client = world.msiClient(source, { transport, env: namedEnvironment(source) });
          await expect(client.acquireToken({ resource: emu.resourceUrl })).resolves.toMatchObject({
            tokenType: "Bearer",
          });
          client.close();
        }
        const app = world.certClient({
          transport,
          azureRegion: "auto",
          imdsEndpoint: imds.AZURE_POD_IDENTITY_AUTHORITY_HOST,
        });
        await app.acquireTokenForClient({ scopes: [`${emu.resourceUrl}/.default`] });
        app.close();

        expect(proxy.tunnels).toEqual([]);
        // And the reason is the request's own policy, not only the loopback address: every
        // managed-identity request says "never", so 169.254.169.254 stays direct too.
        const managed = transport.requests.filter(
          (r) => /reliability\.test/.test(r.url) && !r.url.endsWith("/probe"),
        );
        expect(managed.length).toBeGreaterThan(8);
        expect(managed.filter((r) => r.proxy === "environment").map((r) => r.url)).toEqual([]);
      } finally {
        await inner.close?.();
      }
    },
  );

  it("link-local and loopback destinations are direct in both transports, whatever the proxy settings", () => {
    const hosts = [
      "http://169.254.169.254/",
      "http://169.254.0.1:8080/",
      "http://[fe80::1]/",
      "http://[::ffff:169.254.169.254]/",
      "http://127.0.0.1/",
      "http://127.8.9.10/",
      "http://localhost/",
      "http://[::1]/",
    ].map((u) => new URL(u).hostname);
    expect(hosts.map((h) => [h, undiciAlwaysDirect(h), axiosAlwaysDirect(h)])).toEqual(
      hosts.map((h) => [h, true, true]),
    );
  });
});

describe("redirects are never followed", () => {
  const REDIRECTING: ReadonlyArray<readonly [string, () => HttpTransport]> = [
    [
      "undici (agentOptions asking for redirects)",
      () => createUndiciTransport({ agentOptions: { maxRedirections: 5 } } as never),
    ],
    [
      "axios (an axios config asking for redirects)",
      () => createAxiosTransport({ axios: { maxRedirects: 5 } }),
    ],
  ];
  const ENDPOINTS: ReadonlyArray<readonly [EndpointName, string]> = [
    ["getPlatformMetadata", "IMDS getplatformmetadata"],
    ["issueCredential", "IMDS issuecredential"],
    ["imdsToken", "IMDS v1"],
    ["appService", "App Service"],
    ["serviceFabric", "Service Fabric"],
    ["azureArc", "Azure Arc"],
    ["cloudShell", "Cloud Shell"],
    ["machineLearning", "Machine Learning"],
    ["mtlsToken", "Entra mTLS token endpoint"],
    ["token", "Entra token endpoint"],
    ["resource", "protected resource"],
  ];
  const SOURCE: Partial<Record<EndpointName, SourceName>> = {
    imdsToken: "imds",
    appService: "appService",
    serviceFabric: "serviceFabric",
    azureArc: "azureArc",
    cloudShell: "cloudShell",
    machineLearning: "machineLearning",
  };

  it.each(REDIRECTING)("%s: a 302/307 to another local server reaches nothing there", async (_name, make) => {
    const { emu } = world;
    const transport = make();
    try {
      world.freshClock();
      const app = world.certClient({ transport });
      const pop = await app.acquireTokenForClient({
        scopes: [`${emu.resourceUrl}/.default`],
        mtlsProofOfPossession: true,
      });
      const outcomes: Record<string, string> = {};
      for (const status of [302, 307]) {
        for (const [endpoint, label] of ENDPOINTS) {
          elsewhere.reset();
          emu.clearFaults();
          if (endpoint === "azureArc") emu.injectFault(endpoint, { headers: {}, count: 1 });
          emu.injectFault(endpoint, {
            status,
            headers: { location: `${elsewhere.origin}/metadata/identity/oauth2/token?stolen=1` },
            body: "",
            count: Number.POSITIVE_INFINITY,
          });
          world.freshClock();
          let outcome: string;
          if (endpoint === "resource") {
            const caller = new ResourceCaller({ transport, ca: emu.caCertificatePem });
            outcome = String((await caller.call(pop, `${emu.resourceUrl}/r`)).status);
          } else if (endpoint === "token" || endpoint === "mtlsToken") {
            const client = world.certClient({ transport });
            outcome = await codeOf(
              client.acquireTokenForClient({
                scopes: [`${emu.resourceUrl}/.default`],
                mtlsProofOfPossession: endpoint === "mtlsToken",
              }),
            );
            client.close();
          } else {
            const source = SOURCE[endpoint] ?? "imds";
            const client = world.msiClient(source, { transport });
            outcome = await codeOf(
              client.acquireToken({
                resource: emu.resourceUrl,
                mtlsProofOfPossession: SOURCE[endpoint] === undefined,
              }),
            );
            client.close();
          }
          outcomes[`${status} ${label}`] = `${outcome}, ${elsewhere.requests.length} request(s) elsewhere`;
        }
      }
      app.close();
      emu.clearFaults();
      const expected: Record<string, string> = {};
      for (const status of [302, 307]) {
        for (const [endpoint, label] of ENDPOINTS) {
          // IMDS v2 failures are managed_identity_request_failed, as in MSAL.NET (issue 13 item 9).
          const code =
            endpoint === "resource"
              ? String(status)
              : endpoint === "getPlatformMetadata" || endpoint === "issueCredential"
                ? "managed_identity_request_failed"
                : "service_error";
          expected[`${status} ${label}`] = `${code}, 0 request(s) elsewhere`;
        }
      }
      expect(outcomes).toEqual(expected);
    } finally {
      await transport.close?.();
    }
  });
});

describe("authorities and token endpoints must be https", () => {
  it("credential-cert refuses http:// in authority, authorityHost and mtlsAuthorityHost before any request", async () => {
    const { emu } = world;
    const transport = recordingTransport(world.transport);
    const base = {
      clientId: world.app.clientId,
      certificate: {
        certificatePem: world.app.certificate.certificatePem,
        privateKey: world.app.certificate.privateKey,
      },
      transport,
      env: {},
    };
    const attempts = {
      authority: () => createConfidentialClient({ ...base, authority: "http://login.microsoftonline.com/t" }),
      authorityHost: () =>
        createConfidentialClient({
          ...base,
          authority: `https://login.microsoftonline.com/${emu.tenantId}`,
          authorityHost: emu.authorityHost.replace("https:", "http:"),
        }),
      mtlsAuthorityHost: () =>
        createConfidentialClient({
          ...base,
          authority: `https://login.microsoftonline.com/${emu.tenantId}`,
          mtlsAuthorityHost: emu.mtlsAuthorityHost.replace("https:", "http:"),
        }),
    };
    const outcomes: Record<string, string> = {};
    for (const [name, attempt] of Object.entries(attempts))
      outcomes[name] = await codeOf((async () => attempt())());
    expect(outcomes).toEqual({
      authority: "invalid_options",
      authorityHost: "invalid_options",
      mtlsAuthorityHost: "invalid_options",
    });
    expect(transport.requests).toEqual([]);
  });

  it("credential-msi refuses an http:// mTLS token endpoint handed out by issuecredential", async () => {
    const { emu } = world;
    world.freshClock();
    const certificate = world.appCa
      .issue({ commonName: emu.systemAssignedIdentity.clientId, publicKey: world.msiKey.publicKey })
      .certificate.raw.toString("base64");
    emu.clearFaults();
    emu.resetStats();
    emu.injectFault("issueCredential", {
      status: 200,
      body: JSON.stringify({
        client_id: emu.systemAssignedIdentity.clientId,
        tenant_id: emu.tenantId,
        certificate,
        identity_type: "SystemAssigned",
        mtls_authentication_endpoint: elsewhere.origin,
      }),
    });
    elsewhere.reset();
    // Without the app's own mtlsAuthorityHost, IMDS's answer is what would be used: it is refused.
    const client = world.msiClient("imds", { mtlsAuthorityHost: undefined });
    expect(
      await codeOf(client.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true })),
    ).toBe("managed_identity_request_failed");
    client.close();
    expect(elsewhere.requests).toEqual([]);
  });
});

describe("the Azure Arc challenge reads only small key files in the agent's folder", () => {
  it("refuses files outside the folder, escapes, links out, other extensions, folders and oversized files", async () => {
    const { emu } = world;
    const secret = randomBytes(24).toString("hex");
    const outside = mkdtempSync(join(tmpdir(), "certbound-reliability-arc-outside-"));
    const folder = emu.arcTokenFolder;
    try {
      const outsideKey = join(outside, "stolen.key");
      writeFileSync(outsideKey, secret);
      symlinkSync(outsideKey, join(folder, "link-out.key"));
      writeFileSync(join(folder, "big.key"), "a".repeat(4097));
      writeFileSync(join(folder, "limit.key"), "b".repeat(4096));
      writeFileSync(join(folder, "not-a-key.txt"), secret);
      mkdirSync(join(folder, "folder.key"));
      const challenges: Record<string, string> = {
        "a file outside the folder": outsideKey,
        "a path escaping the folder": join(folder, "..", outside.slice(tmpdir().length + 1), "stolen.key"),
        "a link from the folder to a file outside": join(folder, "link-out.key"),
        "a file over 4096 bytes": join(folder, "big.key"),
        "a file without the .key extension": join(folder, "not-a-key.txt"),
        "a folder": join(folder, "folder.key"),
        "a relative path": "stolen.key",
        // The boundary: a 4096-byte key file is read and sent (the agent then refuses the key).
        "a key file of exactly 4096 bytes": join(folder, "limit.key"),
      };
      const outcomes: Record<string, string> = {};
      for (const [label, file] of Object.entries(challenges)) {
        emu.clearFaults();
        emu.injectFault("azureArc", { status: 401, headers: { "www-authenticate": `Basic realm=${file}` } });
        world.freshClock();
        const transport = recordingTransport(world.transport);
        const client = world.msiClient("azureArc", { transport });
        const code = await codeOf(client.acquireToken({ resource: emu.resourceUrl }));
        client.close();
        const sent = transport.headerValues("authorization").length;
        outcomes[label] = `${code}, ${sent} answer(s) sent`;
      }
      expect(outcomes).toEqual(
        Object.fromEntries(
          Object.keys(challenges).map((label) => [
            label,
            label.includes("exactly")
              ? "service_error, 1 answer(s) sent"
              : "managed_identity_request_failed, 0 answer(s) sent",
          ]),
        ),
      );
    } finally {
      rmSync(outside, { recursive: true, force: true });
      emu.clearFaults();
    }
  });
});

describe("private keys never reach the disk", () => {
  /** Files (path -> size and mtime) under `root`, `depth` levels deep, skipping dependencies. */
  function listing(root: string, depth: number, out = new Map<string, string>()): Map<string, string> {
    let entries: string[];
    try {
      entries = readdirSync(root);
    } catch {
      return out;
    }
    for (const name of entries) {
      if (name === "node_modules" || name === ".git" || name === ".turbo") continue;
      const path = join(root, name);
      let stat: ReturnType<typeof statSync>;
      try {
        stat = statSync(path);
      } catch {
        continue;
      }
      if (stat.isDirectory()) {
        if (depth > 0) listing(path, depth - 1, out);
      } else if (stat.isFile()) {
        out.set(path, `${stat.size}:${stat.mtimeMs}`);
      }
    }
    return out;
  }

  it("a full managed-identity PoP flow with the default key provider writes its key nowhere", async () => {
    const { emu } = world;
    const roots: Array<readonly [string, number]> = [
      [tmpdir(), 4],
      [process.cwd(), 6],
    ];
    const before = roots.map(([root, depth]) => listing(root, depth));
    world.freshClock();
    const client = createManagedIdentityClient({
      transport: world.transport,
      env: emu.managedIdentityEnvironment("imds"),
      ca: emu.caCertificatePem,
      mtlsAuthorityHost: emu.mtlsAuthorityHost,
      clock: world.clock,
      fileExists: () => false,
    });
    const result = await client.acquireToken({ resource: emu.resourceUrl, mtlsProofOfPossession: true });
    const key = result.bindingCertificate?.privateKey;
    if (!key) throw new Error("no binding key");
    expect(key.asymmetricKeyType).toBe("rsa");
    const caller = new ResourceCaller({ transport: world.transport, ca: emu.caCertificatePem });
    expect((await caller.call(result, `${emu.resourceUrl}/disk`)).status).toBe(200);
    client.close();

    const der = key.export({ type: "pkcs8", format: "der" });
    const probes = [
      ...(key.export({ type: "pkcs8", format: "pem" }) as string).split("\n").filter((l) => l.length === 64),
      ...(key.export({ type: "pkcs1", format: "pem" }) as string).split("\n").filter((l) => l.length === 64),
      der.subarray(100, 148).toString("hex"),
      String((key.export({ format: "jwk" }) as { d: string }).d).slice(0, 40),
    ];
    const rawProbe = der.subarray(100, 148);
    const holding = () => {
      const changed: string[] = [];
      roots.forEach(([root, depth], i) => {
        const after = listing(root, depth);
        for (const [path, stamp] of after) if (before[i]?.get(path) !== stamp) changed.push(path);
      });
      return changed.filter((path) => {
        let content: Buffer;
        try {
          if (statSync(path).size > 20 * 1024 * 1024) return false;
          content = readFileSync(path);
        } catch {
          return false;
        }
        const text = content.toString("latin1");
        return content.includes(rawProbe) || probes.some((p) => text.includes(p));
      });
    };
    expect(holding()).toEqual([]);
    // The scan finds a key that is on disk (so an empty result means something).
    const planted = mkdtempSync(join(tmpdir(), "certbound-reliability-canary-"));
    try {
      writeFileSync(join(planted, "leak.bin"), der);
      expect(holding()).toEqual([join(planted, "leak.bin")]);
    } finally {
      rmSync(planted, { recursive: true, force: true });
    }
  });
});
