// Secret hygiene: every flow and every failure runs with sentinel secrets (access tokens in the
// answers, passphrases, keys, client assertions, managed-identity secret headers, Azure Arc key
// files) and a logger at its most verbose level. Nothing a user can see — log lines, error
// messages, stacks, cause chains, fields, util.inspect output — may contain any of them.
import { randomUUID } from "node:crypto";
import { ResourceCaller, type TokenResult } from "@certbound/core";
import { loadPrivateKey } from "@certbound/core/credential-kit";
import { loadCertificate, readPfx } from "@certbound/credential-cert";
import type { EndpointName, Fault } from "@certbound/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HangDriver, hangDriver } from "./support/hang-driver";
import { makePfx } from "./support/pfx";
import { type RecordingTransport, recordingTransport } from "./support/recording-transport";
import { SecretScanner } from "./support/secrets";
import { capturingLogger, type SourceName, startWorld, type World } from "./support/world";

const TOKEN = `SENTINEL-ACCESS-TOKEN-${randomUUID()}`;
const PASSPHRASE = `sentinel-passphrase-${randomUUID()}`;
const WRONG_PASSPHRASE = `sentinel-wrong-passphrase-${randomUUID()}`;

/** Answers that carry the sentinel token in every shape a broken or hostile server could send. */
const SENTINEL_ANSWERS: ReadonlyArray<readonly [string, Fault]> = [
  [
    "wrong token_type",
    { status: 200, body: JSON.stringify({ access_token: TOKEN, token_type: "pop", expires_in: 3600 }) },
  ],
  ["no expiry, no token_type", { status: 200, body: JSON.stringify({ access_token: TOKEN }) }],
  ["truncated", { status: 200, body: `{"access_token":"${TOKEN}","token_type":"mtls_pop","exp` }],
  [
    "error status echoing it",
    { status: 400, body: JSON.stringify({ error: "invalid_request", access_token: TOKEN }) },
  ],
  ["HTML error page", { status: 502, body: `<html><body>upstream said ${TOKEN}</body></html>` }],
  [
    "over the size cap",
    { status: 200, body: `{"access_token":"${TOKEN}","pad":"${"x".repeat(1024 * 1024)}"}` },
  ],
  ["hang", { hang: true }],
  ["reset", { reset: true }],
];

let world: World;
let driver: HangDriver;
let transport: RecordingTransport;
let logger: ReturnType<typeof capturingLogger>;
let scanner: SecretScanner;
const tokens: TokenResult[] = [];
const errors: unknown[] = [];

/** Runs `flow`, keeping its error (or its token, a secret too). */
async function run(flow: () => Promise<TokenResult | unknown>): Promise<void> {
  try {
    const result = await flow();
    if (typeof result === "object" && result !== null && "accessToken" in result)
      tokens.push(result as TokenResult);
  } catch (error) {
    errors.push(error);
  }
}

/** Injects `fault` (persistently) into `endpoint`, arming the hang driver for hangs. */
function inject(endpoint: EndpointName, fault: Fault, skip = 0) {
  world.emu.clearFaults();
  world.emu.resetStats();
  driver.reset();
  world.freshClock();
  if (skip > 0) world.emu.injectFault(endpoint, { headers: {}, count: skip });
  world.emu.injectFault(endpoint, { ...fault, count: Number.POSITIVE_INFINITY });
  if (fault.hang) driver.arm(endpoint, { skip });
}

beforeAll(async () => {
  world = await startWorld();
  driver = hangDriver(world.transport, world.transportClock, world.emu);
  transport = recordingTransport(driver);
  logger = capturingLogger();
  scanner = new SecretScanner();
});

afterAll(async () => {
  await world?.close();
});

const certClient = (extra: Parameters<World["certClient"]>[0] = {}) =>
  world.certClient({ transport, logger, ...extra });
const msiClient = (source: SourceName, extra: Parameters<World["msiClient"]>[1] = {}) =>
  world.msiClient(source, { transport, logger, ...extra });
const scope = () => `${world.emu.resourceUrl}/.default`;

describe("secret hygiene", () => {
  it("the scanner finds a planted secret (so a clean scan means something)", () => {
    const canary = new SecretScanner();
    canary.secret("token", TOKEN);
    canary.privateKey("key", world.msiKey.privateKey);
    canary.collect("error", new Error("wrapped", { cause: { deep: [{ text: `x${TOKEN}y` }] } }));
    canary.collect("log", { fields: { key: world.msiKey.privateKey } });
    expect(canary.leaks().map((l) => l.secret)).toEqual(expect.arrayContaining(["token", "key (PEM line)"]));
  });

  it("confidential client: PoP and Bearer, PEM with passphrase and PFX, every failure", async () => {
    const { app } = world;
    const encrypted = app.certificate.privateKey.export({
      type: "pkcs8",
      format: "pem",
      cipher: "aes-256-cbc",
      passphrase: PASSPHRASE,
    }) as string;
    const pfx = makePfx(app.certificate.certificatePem, app.certificate.keyPem, PASSPHRASE);
    const pemInput = {
      certificatePem: app.certificate.certificatePem,
      privateKeyPem: encrypted,
      passphrase: PASSPHRASE,
    };
    const pfxInput = { pfx, passphrase: PASSPHRASE };
    world.freshClock();
    for (const certificate of [pemInput, pfxInput]) {
      const client = certClient({ certificate });
      for (const pop of [true, false]) {
        await run(() => client.acquireTokenForClient({ scopes: [scope()], mtlsProofOfPossession: pop }));
        await run(() => client.acquireTokenForClient({ scopes: [scope()], mtlsProofOfPossession: pop })); // cache hit
      }
      client.close();
    }
    for (const endpoint of ["mtlsToken", "token"] as const) {
      for (const [, fault] of SENTINEL_ANSWERS) {
        inject(endpoint, fault);
        const client = certClient({ certificate: pemInput });
        await run(() =>
          client.acquireTokenForClient({
            scopes: [scope()],
            mtlsProofOfPossession: endpoint === "mtlsToken",
          }),
        );
        client.close();
      }
    }
    // A throttled request (Retry-After), then the identical request refused locally.
    inject("token", { status: 429, headers: { "retry-after": "30" } });
    const throttled = certClient({ certificate: pfxInput });
    await run(() => throttled.acquireTokenForClient({ scopes: [scope()] }));
    await run(() => throttled.acquireTokenForClient({ scopes: [scope()] }));
    throttled.close();
    world.emu.clearFaults();
    // Wrong passphrases, everywhere a passphrase is taken.
    await run(async () => certClient({ certificate: { ...pemInput, passphrase: WRONG_PASSPHRASE } }));
    await run(async () => certClient({ certificate: { pfx, passphrase: WRONG_PASSPHRASE } }));
    await run(async () => loadCertificate({ ...pemInput, passphrase: WRONG_PASSPHRASE }));
    await run(async () => loadCertificate({ pfx, passphrase: WRONG_PASSPHRASE }));
    await run(async () => readPfx(pfx, WRONG_PASSPHRASE));
    await run(async () => loadPrivateKey(encrypted, { passphrase: WRONG_PASSPHRASE }));
    await run(async () => loadPrivateKey(encrypted));
    // The wrong passphrase sits right next to the right one: neither may be echoed.
    scanner.secret("wrong passphrase", WRONG_PASSPHRASE);
    scanner.secret("PFX (base64)", pfx.toString("base64").slice(200, 260));
    expect(transport.assertions().length).toBeGreaterThan(0);
    expectClean();
  });

  it("managed identity, IMDS v2 PoP: success and every failure of every step", async () => {
    world.freshClock();
    const client = msiClient("imds");
    await run(() => client.acquireToken({ resource: world.emu.resourceUrl, mtlsProofOfPossession: true }));
    await run(() => client.acquireToken({ resource: world.emu.resourceUrl, mtlsProofOfPossession: true }));
    client.close();
    for (const endpoint of ["getPlatformMetadata", "issueCredential", "mtlsToken"] as const) {
      for (const [, fault] of SENTINEL_ANSWERS) {
        inject(endpoint, fault);
        const failing = msiClient("imds");
        await run(() =>
          failing.acquireToken({ resource: world.emu.resourceUrl, mtlsProofOfPossession: true }),
        );
        failing.close();
      }
    }
    // The binding certificate rejected by Entra: the client re-mints once, and must say so quietly.
    inject("mtlsToken", {
      status: 401,
      body: JSON.stringify({ error: "invalid_client", access_token: TOKEN }),
    });
    const rejected = msiClient("imds");
    await run(() => rejected.acquireToken({ resource: world.emu.resourceUrl, mtlsProofOfPossession: true }));
    rejected.close();
    expectClean();
  });

  it("managed identity, Bearer: every source, success and every failure", async () => {
    const sources: ReadonlyArray<readonly [SourceName, EndpointName, number]> = [
      ["imds", "imdsToken", 0],
      ["appService", "appService", 0],
      ["serviceFabric", "serviceFabric", 0],
      ["azureArc", "azureArc", 1],
      ["cloudShell", "cloudShell", 0],
      ["machineLearning", "machineLearning", 0],
    ];
    for (const [source, endpoint, skip] of sources) {
      const env = world.emu.managedIdentityEnvironment(source);
      for (const name of ["IDENTITY_HEADER", "MSI_SECRET"]) {
        const value = env[name];
        if (value) scanner.secret(`${source} secret (${name})`, value);
      }
      world.emu.clearFaults();
      world.freshClock();
      const client = msiClient(source);
      await run(() => client.acquireToken({ resource: world.emu.resourceUrl }));
      await run(() => client.acquireToken({ resource: world.emu.resourceUrl }));
      client.close();
      const answers: ReadonlyArray<readonly [string, Fault]> = [
        ...SENTINEL_ANSWERS,
        [
          "a success carrying the sentinel",
          {
            status: 200,
            body: JSON.stringify({ access_token: TOKEN, expires_in: "3600", token_type: "Bearer" }),
          },
        ],
      ];
      for (const [, fault] of answers) {
        inject(endpoint, fault, skip);
        const failing = msiClient(source);
        await run(() => failing.acquireToken({ resource: world.emu.resourceUrl }));
        failing.close();
      }
    }
    // The sentinel really went through the client: it was handed back as a token.
    expect(tokens.some((t) => t.accessToken === TOKEN)).toBe(true);
    expect(transport.headerValues("authorization").some((v) => v.startsWith("Basic "))).toBe(true);
    expectClean();
  });

  it("resource calls: success, wrong certificate, expired token, and transport failures", async () => {
    world.emu.clearFaults();
    world.freshClock();
    const client = certClient();
    const pop = await client.acquireTokenForClient({ scopes: [scope()], mtlsProofOfPossession: true });
    client.close();
    tokens.push(pop);
    const caller = new ResourceCaller({ transport, ca: world.emu.caCertificatePem });
    const url = `${world.emu.resourceUrl}/hygiene`;
    await run(() => caller.call(pop, url));
    await run(() =>
      caller.call(pop, url, { clientIdentity: world.foreignCa.issue({ commonName: "other" }) }),
    );
    await run(() => new ResourceCaller({ transport, ca: world.foreignCa.certificatePem }).call(pop, url));
    await run(() => caller.call({ ...pop, bindingCertificate: undefined }, url));
    for (const [, fault] of SENTINEL_ANSWERS) {
      inject("resource", fault);
      await run(() => caller.call(pop, url));
    }
    world.freshClock(2 * 3600_000);
    world.emu.clearFaults();
    await run(() => caller.call(pop, url));
    expectClean();
  });

  it("with piiLoggingEnabled false, no log line of all the flows above names a client, object, resource or tenant id", () => {
    // core's Logger contract: identifiers are replaced by <pii> unless the logger opts in.
    const { emu, app } = world;
    const pii = new SecretScanner();
    pii.secret("application client id", app.clientId);
    pii.secret("tenant id", emu.tenantId);
    pii.secret("managed identity client id", emu.systemAssignedIdentity.clientId);
    pii.secret("managed identity object id", emu.systemAssignedIdentity.objectId);
    pii.secret("managed identity resource id", emu.systemAssignedIdentity.resourceId);
    pii.collect("log", logger.lines);
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(
      pii.leaks().map((leak) => `${leak.secret} in ${leak.where}: ${leak.context}`),
      "identifiers logged although piiLoggingEnabled is false",
    ).toEqual([]);
  });
});

/** Registers every secret seen so far, scans logs and errors, and expects no leak. */
function expectClean(): void {
  scanner.secret("sentinel access token", TOKEN);
  scanner.secret("passphrase", PASSPHRASE);
  scanner.privateKey("app private key", world.app.certificate.privateKey);
  scanner.privateKey("managed-identity private key", world.msiKey.privateKey);
  for (const result of tokens) {
    scanner.secret("access token", result.accessToken);
    const signature = result.accessToken.split(".")[2];
    if (signature && signature.length >= 12) scanner.secret("access token signature", signature);
  }
  for (const assertion of transport.assertions()) {
    scanner.secret("client assertion", assertion);
    scanner.secret("client assertion signature", assertion.split(".")[2] as string);
  }
  for (const value of transport.headerValues("authorization")) {
    const basic = /^Basic (.+)$/.exec(value)?.[1];
    if (basic) scanner.secret("Azure Arc key file content", basic);
  }
  for (const name of ["secret", "x-identity-header"]) {
    for (const value of transport.headerValues(name)) scanner.secret(`${name} header`, value);
  }
  scanner.collect("log", logger.lines);
  errors.forEach((error, i) => {
    scanner.collect(`error[${i}]`, error);
  });
  expect(errors.length).toBeGreaterThan(0);
  expect(logger.lines.length).toBeGreaterThan(0);
  expect(scanner.collected).toBeGreaterThan(0);
  expect(scanner.leaks()).toEqual([]);
}
