// Property-based fuzzing of every parser of outside input (fast-check, fixed seed per property so
// a failure reproduces). The property: any input yields a value or a typed CertboundError, never
// an untyped exception, a hang or a crash; where a parser promises more (a range, a round trip),
// that is checked too. Parsers that are not exported (IMDS and managed-identity answers, the Azure
// Arc challenge) are reached through the client, with the emulator serving the fuzzed answer.
import { join } from "node:path";
import { type CertboundErrorCode, type HttpResponse, isCertboundError, ServiceError } from "@certbound/core";
import {
  decodeJwtPayload,
  EPOCH_THRESHOLD_SECONDS,
  loadPrivateKey,
  parseBearerChallenge,
  parseDerCertificate,
  parseErrorResponse,
  parseExpiry,
  parsePemChain,
  parseRetryAfter,
  parseTokenResponse,
} from "@certbound/core/credential-kit";
import { loadCertificate, readPfx } from "@certbound/credential-cert";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mutatedBytes, mutatedText } from "./support/mutate";
import { makePfx } from "./support/pfx";
import { typedOrValue, typedOrValueAsync } from "./support/typed";
import { loopbackOnly, startWorld, type World } from "./support/world";

const SEED = 20_260_101;
const PURE_RUNS = 400;
const CLIENT_RUNS = 40;
const assertOptions = (numRuns: number) => ({ seed: SEED, numRuns });

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

const codeOf = (r: unknown): CertboundErrorCode | undefined =>
  typeof r === "object" && r !== null && "error" in r && isCertboundError((r as { error: unknown }).error)
    ? (r as { error: { code: CertboundErrorCode } }).error.code
    : undefined;

// --- building blocks ---------------------------------------------------------------------------

// Any UTF-16 code unit, lone surrogates included (fast-check's "binary" unit costs seconds to build).
const anyUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });

const anyField = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.stringMatching(/^\s*\d{1,13}(\.\d{1,3})?\s*$/),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
  fc.jsonValue({ maxDepth: 2 }),
);

/** JSON objects over a vocabulary of field names, each present or not, with any value. */
function jsonObjectOf(names: readonly string[], special: Record<string, fc.Arbitrary<unknown>> = {}) {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const name of names) model[name] = fc.oneof(special[name] ?? anyField, anyField);
  return fc.record(model, { requiredKeys: [] });
}

/** Bodies: garbage, arbitrary JSON, vocabulary objects, and cut-off or damaged vocabulary objects. */
function bodies(vocabulary: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  const text = vocabulary.map((o) => JSON.stringify(o));
  return fc.oneof(
    { arbitrary: text, weight: 4 },
    fc.string(),
    anyUtf16,
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.tuple(text, fc.nat()).map(([t, at]) => t.slice(0, at % (t.length + 1))),
    text.chain((t) => mutatedText([t])),
  );
}

const TOKEN_FIELDS = [
  "access_token",
  "token_type",
  "expires_in",
  "expires_on",
  "ext_expires_in",
  "refresh_in",
];
const tokenVocabulary = jsonObjectOf(TOKEN_FIELDS, {
  access_token: fc.string({ minLength: 1 }),
  token_type: fc.constantFrom("mtls_pop", "MTLS_POP", "Bearer", "bearer", "pop", "", "mtls_pop "),
  expires_in: fc.integer({ min: -10, max: 10_000_000_000 }),
});
const headers = fc.dictionary(
  fc.constantFrom("retry-after", "content-type", "server", "www-authenticate", "x-other"),
  fc.oneof(
    fc.string(),
    fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
    fc.nat().map(String),
  ),
);
const responses = (body: fc.Arbitrary<string>): fc.Arbitrary<HttpResponse> =>
  fc.record({
    status: fc.oneof(fc.constant(200), fc.integer({ min: 100, max: 599 })),
    headers,
    body,
  });
const now = fc.integer({ min: 0, max: 4_102_444_800_000 });

// --- pure parsers ------------------------------------------------------------------------------

describe("token and error responses", () => {
  it("parseTokenResponse: a token of the asked type with a real expiry, or a typed error", () => {
    fc.assert(
      fc.property(
        responses(bodies(tokenVocabulary)),
        fc.constantFrom("mtls_pop" as const, "Bearer" as const),
        now,
        (response, expectedTokenType, at) => {
          const r = typedOrValue(() => parseTokenResponse(response, { expectedTokenType, now: at }));
          if ("error" in r) return true;
          return (
            response.status >= 200 &&
            response.status < 300 &&
            r.tokenType === expectedTokenType &&
            r.accessToken.length > 0 &&
            Number.isFinite(r.expiresOn.getTime())
          );
        },
      ),
      assertOptions(PURE_RUNS),
    );
  });

  it("parseErrorResponse: always a ServiceError with the status and a sane Retry-After, never a throw", () => {
    const errorVocabulary = jsonObjectOf([
      "error",
      "error_description",
      "error_codes",
      "correlation_id",
      "trace_id",
      "suberror",
      "claims",
    ]);
    fc.assert(
      fc.property(responses(bodies(errorVocabulary)), now, (response, at) => {
        const error = parseErrorResponse(response, { what: "the fuzzed endpoint", now: at });
        const retryAfter = error.retryAfterMs;
        return (
          error instanceof ServiceError &&
          error.status === response.status &&
          (retryAfter === undefined || (Number.isFinite(retryAfter) && retryAfter >= 0)) &&
          (error.errorCodes ?? []).every((c) => typeof c === "number")
        );
      }),
      assertOptions(PURE_RUNS),
    );
  });
});

describe("Retry-After and expiry fields", () => {
  it("parseRetryAfter: undefined or a finite, non-negative delay, whatever the header says", () => {
    const header = fc.oneof(
      fc.string(),
      fc.stringMatching(/^\s*\d{1,25}\s*$/),
      fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom("Wed, 21 Oct 2015 07:28:00 GMT", "-1", "1e3", "0x10", "Infinity", "NaN", " 5 ", "abc"),
    );
    fc.assert(
      fc.property(header, now, (value, at) => {
        const r = parseRetryAfter(value, at);
        return r === undefined || (Number.isFinite(r) && r >= 0);
      }),
      assertOptions(PURE_RUNS),
    );
  });

  it("parseRetryAfter: delta-seconds and HTTP-dates mean what RFC 9110 says", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000 }), now, (seconds, at) => {
        return parseRetryAfter(String(seconds), at) === seconds * 1000;
      }),
      assertOptions(PURE_RUNS),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        (whenSeconds, nowSeconds) => {
          const date = new Date(whenSeconds * 1000).toUTCString();
          return parseRetryAfter(date, nowSeconds * 1000) === Math.max(0, (whenSeconds - nowSeconds) * 1000);
        },
      ),
      assertOptions(PURE_RUNS),
    );
  });

  it("parseExpiry: undefined or a finite instant, for any JSON value", () => {
    fc.assert(
      fc.property(fc.oneof(anyField, fc.anything()), now, (value, at) => {
        const r = parseExpiry(value, at);
        return r === undefined || Number.isFinite(r);
      }),
      assertOptions(PURE_RUNS),
    );
  });

  it("parseExpiry: numbers below 978307200 are relative seconds, at or above it absolute", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999_999_999 }), now, fc.boolean(), (seconds, at, asString) => {
        const expected = seconds >= EPOCH_THRESHOLD_SECONDS ? seconds * 1000 : at + seconds * 1000;
        return parseExpiry(asString ? String(seconds) : seconds, at) === expected;
      }),
      assertOptions(PURE_RUNS),
    );
  });
});

describe("JWTs and challenges", () => {
  const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const jwtLike = fc.oneof(
    fc.string(),
    fc
      .tuple(fc.string(), fc.oneof(fc.jsonValue().map(b64url), fc.string()), fc.string())
      .map(([h, p, s]) => `${h}.${p}.${s}`),
    fc.array(fc.base64String(), { maxLength: 5 }).map((parts) => parts.join(".")),
  );

  it("decodeJwtPayload: a plain object or undefined, never a throw", () => {
    fc.assert(
      fc.property(jwtLike, (token) => {
        const r = decodeJwtPayload(token);
        return r === undefined || (typeof r === "object" && r !== null && !Array.isArray(r));
      }),
      assertOptions(PURE_RUNS),
    );
  });

  it("decodeJwtPayload: reads back any JSON object payload", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.stringMatching(/^[\w-]*$/),
        (payload, signature) => {
          const decoded = decodeJwtPayload(`${b64url({ alg: "RS256" })}.${b64url(payload)}.${signature}`);
          expect(decoded).toEqual(JSON.parse(JSON.stringify(payload)));
          return true;
        },
      ),
      assertOptions(200),
    );
  });

  it("parseBearerChallenge: string parameters for any WWW-Authenticate value", () => {
    const challenge = fc.oneof(
      fc.string(),
      fc.dictionary(fc.stringMatching(/^[a-z_][a-z_-]{0,8}$/), fc.string()).map(
        (params) =>
          `Bearer ${Object.entries(params)
            .map(([k, v]) => `${k}="${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`)
            .join(", ")}`,
      ),
    );
    fc.assert(
      fc.property(fc.option(challenge, { nil: undefined }), (header) => {
        return Object.values(parseBearerChallenge(header)).every((v) => typeof v === "string");
      }),
      assertOptions(PURE_RUNS),
    );
  });
});

// --- certificates, keys, PFX ---------------------------------------------------------------------

describe("PEM, DER, private keys and PFX", () => {
  const ca = createCertificateAuthority({ commonName: "fuzz CA" });
  const ec = ca.issue({ commonName: "fuzz-ec" });
  const PASSPHRASE = "fuzz-passphrase-0b7d";
  let rsa: IssuedCertificate;
  let pfxModern: Buffer;
  let pfxLegacy: Buffer;

  beforeAll(() => {
    rsa = ca.issue({ commonName: "fuzz-rsa", keyType: "rsa" });
    // PFX fixtures come from the openssl CLI, an independent encoder.
    pfxModern = makePfx(rsa.certificatePem, rsa.keyPem, PASSPHRASE);
    pfxLegacy = makePfx(rsa.certificatePem, rsa.keyPem, PASSPHRASE, true);
  });

  const certificateCodes = new Set<CertboundErrorCode>(["invalid_certificate"]);
  const keyCodes = new Set<CertboundErrorCode>(["invalid_private_key", "wrong_passphrase"]);

  it("parsePemChain: certificates or invalid_certificate, for damaged chains and any value", () => {
    const chain = `${ec.certificatePem}${ca.certificatePem}`;
    fc.assert(
      fc.property(fc.oneof(mutatedText([chain, ec.certificatePem]), fc.string(), fc.anything()), (input) => {
        const r = typedOrValue(() => parsePemChain(input as string));
        if (Array.isArray(r)) return r.length > 0;
        return certificateCodes.has(codeOf(r) as CertboundErrorCode);
      }),
      assertOptions(PURE_RUNS),
    );
  });

  it("parseDerCertificate: a certificate or invalid_certificate, for damaged DER and any value", () => {
    fc.assert(
      fc.property(
        fc.oneof(mutatedBytes([ec.certificate.raw, rsa.certificate.raw]), fc.uint8Array(), fc.anything()),
        (input) => {
          const r = typedOrValue(() => parseDerCertificate(input as Uint8Array));
          return "error" in r ? certificateCodes.has(codeOf(r) as CertboundErrorCode) : true;
        },
      ),
      assertOptions(PURE_RUNS),
    );
  });

  it("loadPrivateKey: a private key, invalid_private_key or wrong_passphrase, for damaged keys", () => {
    const pems = [
      ec.keyPem,
      rsa.keyPem,
      rsa.privateKey.export({ type: "pkcs1", format: "pem" }) as string,
      ec.privateKey.export({ type: "sec1", format: "pem" }) as string,
      rsa.privateKey.export({
        type: "pkcs8",
        format: "pem",
        cipher: "aes-256-cbc",
        passphrase: PASSPHRASE,
      }) as string,
    ];
    const ders = [
      ec.privateKey.export({ type: "pkcs8", format: "der" }),
      rsa.privateKey.export({ type: "pkcs8", format: "der" }),
    ];
    const input = fc.oneof(
      mutatedText(pems),
      mutatedBytes(ders),
      fc.constantFrom(...pems),
      fc.string(),
      fc.uint8Array(),
      fc.anything(),
    );
    const passphrase = fc.option(fc.oneof(fc.constant(PASSPHRASE), fc.string()), { nil: undefined });
    fc.assert(
      fc.property(input, passphrase, (key, pass) => {
        const r = typedOrValue(() => loadPrivateKey(key as string, { passphrase: pass }));
        return "error" in r ? keyCodes.has(codeOf(r) as CertboundErrorCode) : r.type === "private";
      }),
      assertOptions(PURE_RUNS),
    );
  });

  it("readPfx: contents, wrong_passphrase, invalid_certificate or invalid_private_key, for damaged PFX", () => {
    const codes = new Set<CertboundErrorCode>([
      "wrong_passphrase",
      "invalid_certificate",
      "invalid_private_key",
    ]);
    const bytes = fc.oneof(
      mutatedBytes([pfxModern, pfxLegacy]),
      fc.constantFrom(pfxModern, pfxLegacy),
      fc.uint8Array(),
    );
    const passphrase = fc.option(fc.oneof(fc.constant(PASSPHRASE), fc.string()), { nil: undefined });
    fc.assert(
      fc.property(bytes, passphrase, (pfx, pass) => {
        const r = typedOrValue(() => readPfx(pfx, pass));
        return "error" in r ? codes.has(codeOf(r) as CertboundErrorCode) : Array.isArray(r.certificates);
      }),
      // PBKDF2 makes each run cost a few milliseconds.
      assertOptions(100),
    );
  });

  it("loadCertificate: a loaded certificate or a typed error, for any shape of input", () => {
    const certificatePem = fc.oneof(
      fc.constantFrom(ec.certificatePem, rsa.certificatePem),
      mutatedText([ec.certificatePem]),
      fc.anything(),
    );
    const privateKeyPem = fc.oneof(
      fc.constantFrom(ec.keyPem, rsa.keyPem),
      mutatedText([ec.keyPem]),
      fc.anything(),
    );
    const shape = fc.oneof(
      fc.record(
        { certificatePem, privateKeyPem, passphrase: fc.oneof(fc.string(), fc.anything()) },
        { requiredKeys: [] },
      ),
      fc.record(
        {
          pfx: fc.oneof(
            fc.constantFrom(pfxModern, pfxLegacy.toString("base64")),
            mutatedBytes([pfxModern]),
            fc.anything(),
          ),
          passphrase: fc.oneof(fc.constant(PASSPHRASE), fc.anything()),
        },
        { requiredKeys: [] },
      ),
      fc.record(
        {
          certificatePem,
          privateKey: fc.oneof(
            fc.constantFrom(ec.privateKey, rsa.privateKey, ec.certificate.publicKey),
            fc.anything(),
          ),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    fc.assert(
      fc.property(shape, fc.option(now, { nil: undefined }), (input, at) => {
        const r = typedOrValue(() => loadCertificate(input as never, at));
        return "error" in r ? true : r.binding.privateKey.type === "private";
      }),
      assertOptions(150),
    );
  });
});

// --- through the clients, with the emulator serving the fuzzed answers ---------------------------

describe("managed-identity answers through the client", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
    process.on("unhandledRejection", onUnhandled);
  });
  afterAll(async () => {
    process.off("unhandledRejection", onUnhandled);
    await world?.close();
  });

  /** One acquisition with the fuzzed answer served once by `endpoint`. */
  async function acquire(
    endpoint: "getPlatformMetadata" | "issueCredential" | "imdsToken" | "appService" | "azureArc",
    fault: { status: number; body?: string; headers?: Record<string, string> },
  ) {
    const { emu } = world;
    emu.clearFaults();
    if (endpoint === "azureArc" && fault.body === undefined) {
      emu.injectFault("azureArc", {
        status: fault.status,
        count: 1,
        ...(fault.headers ? { headers: fault.headers } : {}),
      });
    } else {
      emu.injectFault(endpoint, { count: 1, status: fault.status, body: fault.body ?? "" });
    }
    world.freshClock();
    const source =
      endpoint === "imdsToken"
        ? "imds"
        : endpoint === "appService"
          ? "appService"
          : endpoint === "azureArc"
            ? "azureArc"
            : "imds";
    const client = world.msiClient(source, { transport: loopbackOnly(world.transport) });
    try {
      return await typedOrValueAsync(() =>
        client.acquireToken({
          resource: emu.resourceUrl,
          mtlsProofOfPossession: endpoint === "getPlatformMetadata" || endpoint === "issueCredential",
        }),
      );
    } finally {
      client.close();
    }
  }

  const status = fc.oneof({ arbitrary: fc.constant(200), weight: 3 }, fc.integer({ min: 200, max: 599 }));

  it("getplatformmetadata: a token or a typed error for any answer", async () => {
    const vocabulary = jsonObjectOf(["clientId", "tenantId", "cuId", "attestationEndpoint"], {
      cuId: jsonObjectOf(["vmId", "vmssId"]),
    });
    await fc.assert(
      fc.asyncProperty(status, bodies(vocabulary), async (s, body) => {
        await acquire("getPlatformMetadata", { status: s, body });
        return true;
      }),
      assertOptions(CLIENT_RUNS),
    );
  });

  it("issuecredential: a token or a typed error for any answer (certificates valid, damaged or foreign)", async () => {
    const { emu } = world;
    const forKey = () =>
      world.appCa.issue({
        commonName: emu.systemAssignedIdentity.clientId,
        publicKey: world.msiKey.publicKey,
      }).certificate.raw;
    const foreign = world.foreignCa.issue({ commonName: "foreign" }).certificate.raw;
    const own = forKey();
    const vocabulary = jsonObjectOf(
      ["client_id", "tenant_id", "certificate", "identity_type", "mtls_authentication_endpoint"],
      {
        client_id: fc.constant(emu.systemAssignedIdentity.clientId),
        tenant_id: fc.constant(emu.tenantId),
        certificate: fc.oneof(
          fc.constantFrom(own.toString("base64"), foreign.toString("base64")),
          mutatedBytes([own]).map((b) => Buffer.from(b).toString("base64")),
          fc.base64String(),
        ),
        // The client's transport refuses anything but loopback (see loopbackOnly), whatever the
        // fuzzer makes of these.
        mtls_authentication_endpoint: fc.oneof(
          fc.constantFrom(
            emu.mtlsAuthorityHost,
            "http://127.0.0.1:1",
            "https://127.0.0.1:1",
            "",
            "not a url",
          ),
          fc.string().filter((s) => !s.includes(":")),
        ),
      },
    );
    await fc.assert(
      fc.asyncProperty(status, bodies(vocabulary), async (s, body) => {
        await acquire("issueCredential", { status: s, body });
        return true;
      }),
      assertOptions(CLIENT_RUNS),
    );
  });

  it("IMDS v1 and App Service token answers: a token or a typed error", async () => {
    const vocabulary = jsonObjectOf([...TOKEN_FIELDS, "resource", "client_id"], {
      access_token: fc.string({ minLength: 1 }),
      expires_on: fc.oneof(
        fc.integer({ min: -5, max: 4_000_000_000 }).map(String),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      ),
    });
    for (const endpoint of ["imdsToken", "appService"] as const) {
      await fc.assert(
        fc.asyncProperty(status, bodies(vocabulary), async (s, body) => {
          const r = await acquire(endpoint, { status: s, body });
          return "error" in r || (r.accessToken.length > 0 && Number.isFinite(r.expiresOn.getTime()));
        }),
        assertOptions(CLIENT_RUNS),
      );
    }
  });

  it("Azure Arc challenge header: a token or a typed error for any WWW-Authenticate", async () => {
    const { emu } = world;
    const printable = fc.stringMatching(/^[\x20-\x7e]{0,80}$/);
    const realm = fc.oneof(
      printable,
      fc.constantFrom(
        join(emu.arcTokenFolder, "missing.key"),
        join(emu.arcTokenFolder, "..", "escape.key"),
        "/etc/passwd",
        "relative.key",
        emu.arcTokenFolder,
        `${emu.arcTokenFolder}/`,
      ),
    );
    const header = fc.oneof(
      printable,
      realm.map((r) => `Basic realm=${r}`),
      realm.map((r) => `Basic realm="${r}"`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        await acquire("azureArc", { status: 401, headers: { "www-authenticate": value } });
        return true;
      }),
      assertOptions(CLIENT_RUNS),
    );
  });

  it("no rejection went unhandled during the client properties", () => {
    expect(unhandled).toEqual([]);
  });
});
