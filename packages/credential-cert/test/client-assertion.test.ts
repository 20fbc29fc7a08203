import { constants, createHash, verify, X509Certificate } from "node:crypto";
import { isCertboundError } from "@certbound/core";
import { createCertificateAuthority, x5tS256 } from "@certbound/core/credential-kit";
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

// MSAL.NET's tests/Microsoft.Identity.Test.Unit resource testCert.crtfile (public part only).
const MSAL_TEST_CERT_DER_BASE64 =
  "MIIDQjCCAiqgAwIBAgIQTuexEO9cdYhC0jy1nmS6jTANBgkqhkiG9w0BAQsFADAiMSAwHgYDVQQDDBd0cndhbGtlLm9ubWljcm9zb2Z0LmNvbTAeFw0xNzA4MTExODEzMTBaFw0xODA4MTExODMzMTBaMCIxIDAeBgNVBAMMF3Ryd2Fsa2Uub25taWNyb3NvZnQuY29tMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA5Qe3Ah/E97K0o288gYUNa0H8FO/w8pb1dvls/boQDoZxUD11TpAQrKZwstS6+ulGF6cHmj44AH8MNBKNUbW2L1NTjFG9bltaSXpJXzbIH/cUppF9rxngZ0CM7cHtuoccBPBVEuQiJ86pD7qlqE2EA2BdBmfz3Hd41rybdaWkHMxMcBC7nh6w87/KoyikKXCMLUUyRTJLSivo+gfKJsiYGAjqZ54aJraP5LMiPG2qYTOZR6wMme93mYRp85sqGTvgzRCq37STH2HmcYilUQ9kZFe5SR+1vOki97XLg+H7FuFtkSMM7dEnTWkDv+BJ1ZQvCEj623cJxXlq0fd7hVUxIQIDAQABo3QwcjAOBgNVHQ8BAf8EBAMCBaAwHQYDVR0lBBYwFAYIKwYBBQUHAwIGCCsGAQUFBwMBMCIGA1UdEQQbMBmCF3Ryd2Fsa2Uub25taWNyb3NvZnQuY29tMB0GA1UdDgQWBBSauRo9cNk8J6RTLWMQSyUQnxjQzDANBgkqhkiG9w0BAQsFAAOCAQEAhYl1I8qETtvVt6m/YrGknA90R/FtIePt/ViBae3mxPJWlVoq5fTTriQcuPHXfI5kbjTQJIwCVTT/CRSlKkzRcrSsQUxxHNE7IdpvvDbkf6AMPxQhNACHQd0cIWmsmf+ItKsC70LKQ+93+VgmBsv2j8XwF0JTqwuKoqXnDjCzHvmU67xhPY6CSPA/0XOiVTx1BDWd5cPdsH2bZnAeApsvrzU8W7iPgV/oN9MMfogocvDUXd6T+QGLMAYoInHXsqG6+SEarqRDUPQZOHo5Ax4Mvhsnd2b4u5d5Y/R0z0wUwtOiF0Tu+w79JIqDRYaaJLTKxZ+2DyYOu54u0LGsGhki1g==";

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

  // Follows MSAL.NET tests/Microsoft.Identity.Test.Unit/PublicApiTests/ClientCredentialWithCertTest.cs
  // ClientAssertionTests / AssertClientAssertionHeader: RS256 carries `x5t` (SHA-1) and no
  // `x5t#S256`; three header fields, four with x5c.
  it("signs RS256 when asked, naming the certificate by x5t (SHA-1) only", () => {
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
    expect(header).toEqual({
      alg: "RS256",
      typ: "JWT",
      x5t: createHash("sha1").update(rsa.certificate.raw).digest("base64url"),
    });
    expect(verify("sha256", signingInput, rsa.certificate.publicKey, signature)).toBe(true);
    const withX5c = decode(
      createClientAssertion({
        clientId: "app-1",
        audience: AUD,
        chain: chainOf(),
        privateKey: rsa.privateKey,
        x5tS256: rsa.x5tS256,
        now: NOW,
        algorithm: "RS256",
        sendX5c: true,
      }),
    ).header;
    expect(Object.keys(withX5c)).toEqual(["alg", "typ", "x5t", "x5c"]);
  });

  // The thumbprints MSAL.NET's ClientAssertionTests expect for its test certificate (testCert.crtfile,
  // a public certificate: its DER is the x5c value that test asserts): the same bytes, the same names.
  it("computes x5t and x5t#S256 of MSAL.NET's test certificate as MSAL.NET does", () => {
    const msalTestCertificate = new X509Certificate(Buffer.from(MSAL_TEST_CERT_DER_BASE64, "base64"));
    const base = {
      clientId: "app-1",
      audience: "aud",
      chain: [msalTestCertificate],
      // The signature is not what this checks: any RSA key signs.
      privateKey: rsa.privateKey,
      x5tS256: x5tS256(msalTestCertificate.raw),
      now: NOW,
    };
    expect(decode(createClientAssertion({ ...base, algorithm: "RS256" })).header.x5t).toBe(
      "5wxQ2k6mb5QimllLwRLLS0_ynrQ",
    );
    expect(decode(createClientAssertion({ ...base, algorithm: "PS256" })).header["x5t#S256"]).toBe(
      "bmQeK7jALQuzsm3zZhXskUB41iAU0lyzzX2AKJAtiZ8",
    );
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
