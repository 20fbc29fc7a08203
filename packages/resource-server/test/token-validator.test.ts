// The validator from the attacker's side: tokens the emulator issued (through its discovery
// document and JWKS), tokens forged with other keys or algorithms, and tokens "really" signed by
// the issuer's key (the test holds the emulator's signing key) but wrong in one claim.

import { createHmac, createPublicKey, generateKeyPairSync, randomUUID } from "node:crypto";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { decodeJwtPayload } from "@certbound/core/credential-kit";
import { type JWTPayload, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { type TokenValidationCode, TokenValidationError, type ValidationInput } from "../src/index";
import { AUDIENCE, bearerToken, jwksRequests, popToken, useBed, validatorFor } from "./testbed";

const bed = useBed();

const noCertificate = (token: string): ValidationInput => ({
  authorization: `Bearer ${token}`,
  socket: undefined,
});

async function refusal(promise: Promise<unknown>): Promise<TokenValidationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TokenValidationError) return error;
    throw error;
  }
  throw new Error("the token was accepted");
}

async function expectRefused(
  promise: Promise<unknown>,
  code: TokenValidationCode,
): Promise<TokenValidationError> {
  const error = await refusal(promise);
  expect(error.code).toBe(code);
  return error;
}

const headerOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[0] as string, "base64url").toString()) as Record<string, string>;
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Claims like the emulator's, for forged tokens. */
function claimsLike(real: string): JWTPayload {
  return decodeJwtPayload(real) as JWTPayload;
}

async function sign(
  payload: JWTPayload,
  header: Record<string, unknown>,
  key = bed.signingKey,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "RS256", ...header }).sign(key);
}

describe("tokens the emulator issued", () => {
  it("accepts an mTLS PoP token's signature, issuer and audience, found through discovery and the JWKS", async () => {
    const result = await popToken(bed);
    bed.emu.resetStats();
    const validator = validatorFor(bed);
    // No socket: the token is bound, so the certificate is required (checked after the signature).
    await expectRefused(validator.validate(noCertificate(result.accessToken)), "certificate_required");
    expect(bed.emu.stats().requests.openidConfiguration).toBe(1);
    expect(jwksRequests(bed)).toBe(1);
  });

  it("refuses a Bearer token unless acceptBearer, and then reports it as Bearer", async () => {
    const result = await bearerToken(bed);
    await expectRefused(validatorFor(bed).validate(noCertificate(result.accessToken)), "bearer_not_accepted");
    const accepted = await validatorFor(bed, { acceptBearer: true }).validate(
      noCertificate(result.accessToken),
    );
    expect(accepted).toMatchObject({
      tokenType: "Bearer",
      tenantId: bed.emu.tenantId,
      certificateThumbprint: undefined,
    });
    expect(accepted.claims.aud).toBe(AUDIENCE);
    // The mtls_pop scheme promises a bound token: a Bearer one under it is refused.
    await expectRefused(
      validatorFor(bed, { acceptBearer: true }).validate({
        authorization: `mtls_pop ${result.accessToken}`,
        socket: undefined,
      }),
      "bearer_not_accepted",
    );
  });

  it("refuses a token for another audience or from another tenant", async () => {
    const other = await popToken(bed, "api://another-api/.default");
    await expectRefused(validatorFor(bed).validate(noCertificate(other.accessToken)), "invalid_audience");
    const mine = await popToken(bed);
    await expectRefused(
      validatorFor(bed, {
        tenants: [randomUUID()],
        jwksUri: `${bed.emu.authorityHost}/common/discovery/v2.0/keys`,
      }).validate(noCertificate(mine.accessToken)),
      "invalid_issuer",
    );
  });

  it("refuses an expired token and one not valid yet, with a small skew", async () => {
    const { accessToken } = await popToken(bed);
    const exp = (decodeJwtPayload(accessToken) as { exp: number }).exp * 1000;
    const at = (ms: number) => validatorFor(bed, { clock: { now: () => ms }, acceptBearer: true });
    await expectRefused(at(exp + 61_000).validate(noCertificate(accessToken)), "token_expired");
    // Within the 60 s skew: past the signature and time checks, on to the certificate.
    await expectRefused(at(exp + 30_000).validate(noCertificate(accessToken)), "certificate_required");
    await expectRefused(
      at(bed.clock.now() - 3_600_000).validate(noCertificate(accessToken)),
      "token_not_yet_valid",
    );
  });
});

describe("hostile tokens", () => {
  it("refuses alg none without fetching keys", async () => {
    const { accessToken } = await popToken(bed);
    const validator = validatorFor(bed);
    bed.emu.resetStats();
    const none = `${b64({ alg: "none", typ: "JWT" })}.${accessToken.split(".")[1]}.`;
    const error = await expectRefused(validator.validate(noCertificate(none)), "unsupported_algorithm");
    expect(error.wwwAuthenticate).toBe(
      'Bearer error="invalid_token", error_description="The token is signed with none; only RS256 is accepted."',
    );
    expect(bed.emu.stats().requests.jwks).toBe(0);
  });

  it("refuses HS256 signed with the issuer's public key as the HMAC secret", async () => {
    const { accessToken } = await popToken(bed);
    const publicPem = createPublicKey(bed.signingKey).export({ type: "spki", format: "pem" });
    const { kid } = headerOf(accessToken);
    const input = `${b64({ alg: "HS256", typ: "JWT", kid })}.${accessToken.split(".")[1]}`;
    const forged = `${input}.${createHmac("sha256", publicPem).update(input).digest("base64url")}`;
    await expectRefused(validatorFor(bed).validate(noCertificate(forged)), "unsupported_algorithm");
  });

  it("refuses an unknown kid without a JWKS refetch storm", async () => {
    const { accessToken } = await popToken(bed);
    const attacker = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const validator = validatorFor(bed, { acceptBearer: true });
    bed.emu.resetStats();
    await expectRefused(validator.validate(noCertificate(accessToken)), "certificate_required");
    expect(jwksRequests(bed)).toBe(1);
    const claims = claimsLike(accessToken);
    const forged = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sign(claims, { kid: `made-up-${i}` }, attacker)),
    );
    // All at once, then one after the other: the cooldown (30 s) allows no refetch at all here.
    const concurrent = await Promise.all(forged.map((t) => refusal(validator.validate(noCertificate(t)))));
    expect(concurrent.map((e) => e.code)).toEqual(Array(20).fill("unknown_signing_key"));
    for (const t of forged) await expectRefused(validator.validate(noCertificate(t)), "unknown_signing_key");
    expect(jwksRequests(bed)).toBe(1);
  });

  it("refetches an unknown kid at most once per cooldown, and concurrent ones share the fetch", async () => {
    const { accessToken } = await popToken(bed);
    const attacker = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const validator = validatorFor(bed, { jwks: { cooldownMs: 0 } });
    bed.emu.resetStats();
    await expectRefused(validator.validate(noCertificate(accessToken)), "certificate_required");
    const forged = await Promise.all(
      Array.from({ length: 10 }, (_, i) => sign(claimsLike(accessToken), { kid: `rotated-${i}` }, attacker)),
    );
    await Promise.all(forged.map((t) => refusal(validator.validate(noCertificate(t)))));
    // One warm fetch plus at most one shared refetch for ten concurrent unknown kids.
    expect(jwksRequests(bed)).toBeLessThanOrEqual(2);
  });

  it("never follows jku, x5u, jwk or x5c headers", async () => {
    const { accessToken } = await popToken(bed);
    const attacker = generateKeyPairSync("rsa", { modulusLength: 2048 });
    let fetched = 0;
    const keyServer = createHttpsServer(
      { cert: bed.serverCert.certificatePem, key: bed.serverCert.keyPem },
      (_req, res) => {
        fetched++;
        res.end(
          JSON.stringify({
            keys: [{ ...attacker.publicKey.export({ format: "jwk" }), kid: "evil", alg: "RS256" }],
          }),
        );
      },
    );
    await new Promise<void>((resolve) => keyServer.listen(0, "127.0.0.1", resolve));
    try {
      const url = `https://127.0.0.1:${(keyServer.address() as AddressInfo).port}/keys`;
      const jwk = attacker.publicKey.export({ format: "jwk" });
      const { kid } = headerOf(accessToken);
      const validator = validatorFor(bed, {
        acceptBearer: true,
        ca: [bed.emu.caCertificatePem, bed.ca.certificatePem],
      });
      for (const header of [
        { kid: "evil", jku: url },
        { kid: "evil", x5u: url },
        { kid, jwk },
        { kid, jku: url },
      ]) {
        const forged = await sign(claimsLike(accessToken), header, attacker.privateKey);
        const error = await refusal(validator.validate(noCertificate(forged)));
        expect(["unknown_signing_key", "invalid_signature", "malformed_token"]).toContain(error.code);
      }
      expect(fetched).toBe(0);
    } finally {
      keyServer.close();
    }
  });

  it("caps the token size before parsing it", async () => {
    const validator = validatorFor(bed);
    bed.emu.resetStats();
    const { accessToken } = await popToken(bed);
    const huge = await sign(
      { ...claimsLike(accessToken), padding: "x".repeat(20_000) },
      { kid: headerOf(accessToken).kid },
    );
    await expectRefused(validator.validate(noCertificate(huge)), "token_too_large");
    await expectRefused(
      validator.validate({ authorization: `Bearer ${"a".repeat(5_000_000)}`, socket: undefined }),
      "token_too_large",
    );
    expect(jwksRequests(bed)).toBe(0);
  });

  it("refuses tokens signed by the issuer's key but wrong in tid, exp or cnf", async () => {
    const { accessToken } = await popToken(bed);
    const { kid } = headerOf(accessToken);
    const claims = claimsLike(accessToken);
    const validator = validatorFor(bed, { acceptBearer: true });
    await expectRefused(
      validator.validate(noCertificate(await sign({ ...claims, tid: randomUUID() }, { kid }))),
      "invalid_tenant",
    );
    const { exp: _exp, ...noExp } = claims;
    await expectRefused(validator.validate(noCertificate(await sign(noExp, { kid }))), "malformed_token");
    await expectRefused(
      validator.validate(noCertificate(await sign({ ...claims, cnf: { jkt: "abc" } }, { kid }))),
      "unsupported_confirmation",
    );
    // The same claims, correctly signed: only the missing certificate stops it.
    await expectRefused(
      validator.validate(noCertificate(await sign(claims, { kid }))),
      "certificate_required",
    );
  });

  it("answers 403 insufficient_scope when none of requiredRoles is granted (roles or scp)", async () => {
    const { accessToken } = await bearerToken(bed);
    const { kid } = headerOf(accessToken);
    const claims = claimsLike(accessToken);
    const validator = validatorFor(bed, { acceptBearer: true, requiredRoles: ["Data.Read"] });
    const error = await expectRefused(validator.validate(noCertificate(accessToken)), "insufficient_scope");
    expect(error.status).toBe(403);
    expect(error.wwwAuthenticate).toMatch(/^Bearer error="insufficient_scope", error_description="/);
    const withRole = await sign({ ...claims, roles: ["Other", "Data.Read"] }, { kid });
    expect((await validator.validate(noCertificate(withRole))).claims.roles).toContain("Data.Read");
    const withScope = await sign({ ...claims, scp: "User.Read Data.Read" }, { kid });
    expect((await validator.validate(noCertificate(withScope))).tokenType).toBe("Bearer");
  });

  it.each([
    [undefined, "missing_token", "Bearer"],
    ["", "missing_token", "Bearer"],
    ["Basic dXNlcjpwYXNz", "missing_token", "Bearer"],
    ["Bearer not-a-jwt", "malformed_token", undefined],
    ["Bearer a.b.c", "malformed_token", undefined],
  ] as const)("answers Authorization %j with %s", async (authorization, code, challenge) => {
    const error = await expectRefused(validatorFor(bed).validate({ authorization, socket: undefined }), code);
    expect(error.status).toBe(401);
    if (challenge) expect(error.wwwAuthenticate).toBe(challenge);
    else expect(error.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);
  });

  it("answers 503 without a challenge when the keys cannot be fetched, and retries discovery only after the cooldown", async () => {
    const { accessToken } = await popToken(bed);
    let now = bed.clock.now();
    const validator = validatorFor(bed, { clock: { now: () => now } });
    bed.emu.resetStats();
    bed.emu.injectFault("openidConfiguration", { status: 500, count: 1 });
    const error = await expectRefused(validator.validate(noCertificate(accessToken)), "jwks_unavailable");
    expect(error.status).toBe(503);
    expect(error.wwwAuthenticate).toBeUndefined();
    await expectRefused(validator.validate(noCertificate(accessToken)), "jwks_unavailable");
    expect(bed.emu.stats().requests.openidConfiguration).toBe(1);
    now += 30_000;
    await expectRefused(validator.validate(noCertificate(accessToken)), "certificate_required");
    expect(bed.emu.stats().requests.openidConfiguration).toBe(2);
  });
});

describe("options", () => {
  it.each([
    [{ tenants: ["common"] }, "tenants"],
    [{ tenants: [] }, "tenants"],
    [{ audiences: [] }, "audiences"],
    [{ authorityHost: "http://login.microsoftonline.com" }, "authorityHost"],
    [{ clockToleranceSeconds: 3600 }, "clockToleranceSeconds"],
    [{ maxTokenLength: 10 }, "maxTokenLength"],
    [{ jwks: { cooldownMs: 2 ** 31 } }, "jwks.cooldownMs"],
    [{ forwardedCertificate: { format: "envoy", trustedProxies: [] } }, "trustedProxies"],
    [{ forwardedCertificate: { format: "envoy", trustedProxies: ["proxy.internal"] } }, "trustedProxies"],
    [{ forwardedCertificate: { format: "haproxy", trustedProxies: ["10.0.0.1"] } }, "format"],
    [{ acceptBearr: true }, "acceptBearr"],
  ])("refuses %j naming %s", (options, name) => {
    expect(() => validatorFor(bed, options as never)).toThrow(
      expect.objectContaining({ code: "invalid_options", message: expect.stringContaining(name) }),
    );
  });
});
