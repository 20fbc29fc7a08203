import { constants, createHash, verify, type X509Certificate } from "node:crypto";
import { createCertificateAuthority, isCertboundError, x5tS256 } from "@certbound/core";
import { beforeAll, describe, expect, it } from "vitest";
import { ASSERTION_LIFETIME_SECONDS, createClientAssertion } from "../src/index";

const ca = createCertificateAuthority({ commonName: "assertion test CA" });
let rsa: ReturnType<typeof ca.issue>;
const ec = ca.issue({ commonName: "ec-app" });
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0, 500);
const AUD = "https://login.microsoftonline.com/tenant-a/oauth2/v2.0/token";

beforeAll(() => {
  rsa = ca.issue({ commonName: "rsa-app", keyType: "rsa" });
});

function decode(jwt: string) {
  const [h, c, s] = jwt.split(".") as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(h, "base64url").toString()) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(c, "base64url").toString()) as Record<string, unknown>,
    signingInput: Buffer.from(`${h}.${c}`),
    signature: Buffer.from(s, "base64url"),
  };
}

const chainOf = () => [rsa.certificate, ca.certificate] as X509Certificate[];

describe("createClientAssertion", () => {
  it("signs PS256 by default with the claims and header Entra expects", () => {
    const jwt = createClientAssertion({
      clientId: "app-1",
      audience: AUD,
      chain: chainOf(),
      privateKey: rsa.privateKey,
      x5tS256: rsa.x5tS256,
      now: NOW,
      jti: "11111111-2222-3333-4444-555555555555",
    });
    const { header, claims, signingInput, signature } = decode(jwt);
    expect(header).toEqual({ alg: "PS256", typ: "JWT", "x5t#S256": rsa.x5tS256 });
    expect(header["x5t#S256"]).toBe(createHash("sha256").update(rsa.certificate.raw).digest("base64url"));
    const iat = Math.floor(NOW / 1000);
    expect(claims).toEqual({
      aud: AUD,
      iss: "app-1",
      sub: "app-1",
      jti: "11111111-2222-3333-4444-555555555555",
      nbf: iat,
      iat,
      exp: iat + 600,
    });
    expect(ASSERTION_LIFETIME_SECONDS).toBe(600);
    const key = rsa.certificate.publicKey;
    expect(
      verify(
        "sha256",
        signingInput,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        signature,
      ),
    ).toBe(true);
    // Not a PKCS#1 v1.5 signature.
    expect(verify("sha256", signingInput, key, signature)).toBe(false);
  });

  it("signs RS256 when asked", () => {
    const jwt = createClientAssertion({
      clientId: "app-1",
      audience: AUD,
      chain: chainOf(),
      privateKey: rsa.privateKey,
      x5tS256: rsa.x5tS256,
      now: NOW,
      algorithm: "RS256",
    });
    const { header, signingInput, signature } = decode(jwt);
    expect(header.alg).toBe("RS256");
    expect(verify("sha256", signingInput, rsa.certificate.publicKey, signature)).toBe(true);
  });

  it("puts the chain (leaf first, base64 DER) in x5c only with sendX5c", () => {
    const base = {
      clientId: "app-1",
      audience: AUD,
      chain: chainOf(),
      privateKey: rsa.privateKey,
      x5tS256: rsa.x5tS256,
      now: NOW,
    };
    expect(decode(createClientAssertion(base)).header).not.toHaveProperty("x5c");
    expect(decode(createClientAssertion({ ...base, sendX5c: false })).header).not.toHaveProperty("x5c");
    const x5c = decode(createClientAssertion({ ...base, sendX5c: true })).header.x5c as string[];
    expect(x5c).toEqual([rsa.certificate.raw.toString("base64"), ca.certificate.raw.toString("base64")]);
    expect(x5tS256(Buffer.from(x5c[0] as string, "base64"))).toBe(rsa.x5tS256);
  });

  it("gives every assertion a fresh jti", () => {
    const make = () =>
      decode(
        createClientAssertion({
          clientId: "a",
          audience: AUD,
          chain: chainOf(),
          privateKey: rsa.privateKey,
          x5tS256: rsa.x5tS256,
          now: NOW,
        }),
      ).claims.jti;
    const [a, b] = [make(), make()];
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
  });

  it("refuses an EC key with invalid_certificate: Entra accepts RSA assertions only", () => {
    try {
      createClientAssertion({
        clientId: "a",
        audience: AUD,
        chain: [ec.certificate],
        privateKey: ec.privateKey,
        x5tS256: ec.x5tS256,
        now: NOW,
      });
      expect.unreachable();
    } catch (error) {
      expect(isCertboundError(error) && error.code).toBe("invalid_certificate");
      expect((error as Error).message).toMatch(/RSA key.*mtlsProofOfPossession/);
    }
  });
});
