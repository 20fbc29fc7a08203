import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { type CertboundErrorCode, isCertboundError } from "@certbound/core";
import { createCertificateAuthority, x5tS256 } from "@certbound/core/credential-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCertificateResolver } from "../src/certificate-resolver";
import { type CertificateInput, loadCertificate, readPfx } from "../src/index";
import { makeOpensslFixtures, type OpensslFixtures, PASSPHRASE } from "./openssl-fixtures";

let fx: OpensslFixtures;
let expected: string;
// openssl starts a certificate's validity at the second it is made: check validity an hour into it.
let NOW: number;
beforeAll(() => {
  fx = makeOpensslFixtures();
  const certificate = new X509Certificate(fx.certPem);
  expected = x5tS256(certificate.raw);
  NOW = new Date(certificate.validFrom).getTime() + 3600_000;
});
afterAll(() => fx?.cleanup());

function codeOf(fn: () => unknown): CertboundErrorCode {
  try {
    fn();
  } catch (error) {
    if (isCertboundError(error)) {
      // No secret ever leaks into a message.
      expect(error.message).not.toContain(PASSPHRASE);
      expect(error.message).not.toContain("PRIVATE KEY");
      return error.code;
    }
    throw error;
  }
  throw new Error("expected a CertboundError");
}

describe("loadCertificate: PEM", () => {
  it("reads a PKCS#1 key", () => {
    const loaded = loadCertificate({ certificatePem: fx.certPem, privateKeyPem: fx.pkcs1Pem }, NOW);
    expect(loaded.binding.x5tS256).toBe(expected);
    expect(loaded.binding.privateKey.asymmetricKeyType).toBe("rsa");
    expect(loaded.thumbprintSha1).toBe(new X509Certificate(fx.certPem).fingerprint.replace(/:/g, ""));
  });

  it("reads a PKCS#8 key, also as bytes", () => {
    expect(loadCertificate({ certificatePem: fx.certPem, privateKeyPem: fx.pkcs8Pem }).binding.x5tS256).toBe(
      expected,
    );
    expect(
      loadCertificate({ certificatePem: Buffer.from(fx.certPem), privateKeyPem: Buffer.from(fx.pkcs8Pem) })
        .binding.x5tS256,
    ).toBe(expected);
  });

  it("reads an encrypted PKCS#8 key with its passphrase", () => {
    expect(fx.encryptedPkcs8Pem).toContain("BEGIN ENCRYPTED PRIVATE KEY");
    const loaded = loadCertificate({
      certificatePem: fx.certPem,
      privateKeyPem: fx.encryptedPkcs8Pem,
      passphrase: PASSPHRASE,
    });
    expect(loaded.binding.x5tS256).toBe(expected);
  });

  it("finds the key in a combined PEM", () => {
    expect(loadCertificate({ certificatePem: `${fx.certPem}\n${fx.pkcs8Pem}` }).binding.x5tS256).toBe(
      expected,
    );
  });

  it("takes a ready KeyObject", () => {
    const privateKey = createPrivateKey(fx.pkcs1Pem);
    expect(loadCertificate({ certificatePem: fx.certPem, privateKey }).binding.privateKey).toBe(privateKey);
  });

  it.each<[string, () => CertificateInput, CertboundErrorCode]>([
    [
      "wrong passphrase",
      () => ({ certificatePem: fx.certPem, privateKeyPem: fx.encryptedPkcs8Pem, passphrase: "nope" }),
      "wrong_passphrase",
    ],
    [
      "missing passphrase",
      () => ({ certificatePem: fx.certPem, privateKeyPem: fx.encryptedPkcs8Pem }),
      "wrong_passphrase",
    ],
    ["no key at all", () => ({ certificatePem: fx.certPem }), "cert_without_private_key"],
    [
      "a key of another certificate",
      () => ({ certificatePem: fx.certPem, privateKeyPem: fx.otherKeyPem }),
      "cert_without_private_key",
    ],
    [
      "a public KeyObject",
      () => ({ certificatePem: fx.certPem, privateKey: createPublicKey(fx.pkcs1Pem) }),
      "cert_without_private_key",
    ],
    [
      "a certificate that is not PEM",
      () => ({ certificatePem: "hello", privateKeyPem: fx.pkcs8Pem }),
      "invalid_certificate",
    ],
    [
      "a damaged certificate",
      () => ({
        certificatePem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        privateKeyPem: fx.pkcs8Pem,
      }),
      "invalid_certificate",
    ],
    [
      "a key that is not a key",
      () => ({
        certificatePem: fx.certPem,
        privateKeyPem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
      }),
      "invalid_private_key",
    ],
    ["an empty object", () => ({}) as CertificateInput, "invalid_options"],
  ])("refuses %s", (_name, input, code) => {
    expect(codeOf(() => loadCertificate(input()))).toBe(code);
  });
});

describe("loadCertificate: PFX", () => {
  it("reads the OpenSSL 3 default encoding (AES-256-CBC, PBKDF2, HMAC-SHA256)", () => {
    expect(fx.describe.modern).toMatch(/MAC: sha256/);
    expect(fx.describe.modern).toMatch(/PBES2, PBKDF2, AES-256-CBC.*hmacWithSHA256/);
    const loaded = loadCertificate({ pfx: fx.pfxModern, passphrase: PASSPHRASE }, NOW);
    expect(loaded.binding.x5tS256).toBe(expected);
    expect(loaded.binding.privateKey.asymmetricKeyType).toBe("rsa");
  });

  it("and the legacy one of `openssl pkcs12 -legacy` (RC2-40 certificates, 3DES key, SHA-1 MAC)", () => {
    expect(fx.describe.legacy).toMatch(/MAC: sha1/);
    expect(fx.describe.legacy).toMatch(/pbeWithSHA1And40BitRC2-CBC/);
    expect(fx.describe.legacy).toMatch(/pbeWithSHA1And3-KeyTripleDES-CBC/);
    expect(loadCertificate({ pfx: fx.pfxLegacy, passphrase: PASSPHRASE }).binding.x5tS256).toBe(expected);
  });

  it("accepts the PFX as base64 text", () => {
    expect(
      loadCertificate({ pfx: fx.pfxModern.toString("base64"), passphrase: PASSPHRASE }).binding.x5tS256,
    ).toBe(expected);
  });

  it("keeps the exact certificate bytes (an RSA leaf signed with ECDSA) and puts the leaf first", () => {
    const leafX5t = x5tS256(new X509Certificate(fx.chainLeafPem).raw);
    const loaded = loadCertificate({ pfx: fx.pfxChain, passphrase: PASSPHRASE });
    expect(loaded.binding.x5tS256).toBe(leafX5t);
    expect(loaded.chain.map((c) => x5tS256(c.raw))).toEqual([
      leafX5t,
      x5tS256(new X509Certificate(fx.chainIntermediatePem).raw),
    ]);
    // Byte for byte the DER inside the PEM that went into the file, not a re-encoding of it.
    const pemDer = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
    expect(Buffer.compare(loaded.chain[0]?.raw ?? Buffer.alloc(0), pemDer(fx.chainLeafPem))).toBe(0);
    expect(Buffer.compare(loaded.chain[1]?.raw ?? Buffer.alloc(0), pemDer(fx.chainIntermediatePem))).toBe(0);
  });

  it("reads an EC certificate and key", () => {
    const loaded = loadCertificate({ pfx: fx.pfxEc, passphrase: PASSPHRASE });
    expect(loaded.binding.x5tS256).toBe(x5tS256(new X509Certificate(fx.ecCertPem).raw));
    expect(loaded.binding.privateKey.asymmetricKeyType).toBe("ec");
  });

  it("readPfx returns every certificate and key", () => {
    const { certificates, keys } = readPfx(fx.pfxChain, PASSPHRASE);
    expect(certificates).toHaveLength(2);
    expect(keys).toHaveLength(1);
  });

  it.each<[string, () => CertificateInput, CertboundErrorCode]>([
    ["a wrong passphrase (modern)", () => ({ pfx: fx.pfxModern, passphrase: "nope" }), "wrong_passphrase"],
    ["a wrong passphrase (legacy)", () => ({ pfx: fx.pfxLegacy, passphrase: "nope" }), "wrong_passphrase"],
    ["a missing passphrase", () => ({ pfx: fx.pfxModern }), "wrong_passphrase"],
    ["a PFX without key", () => ({ pfx: fx.pfxNoKey, passphrase: PASSPHRASE }), "cert_without_private_key"],
    ["bytes that are not PKCS#12", () => ({ pfx: Buffer.from("not a pfx at all") }), "invalid_certificate"],
    ["a PEM passed as pfx", () => ({ pfx: fx.certPem }), "invalid_certificate"],
  ])("refuses %s", (_name, input, code) => {
    expect(codeOf(() => loadCertificate(input()))).toBe(code);
  });
});

describe("validity against the injected time", () => {
  const ca = createCertificateAuthority();
  const issued = ca.issue({
    commonName: "dated",
    notBefore: new Date(Date.UTC(2030, 0, 1)),
    notAfter: new Date(Date.UTC(2030, 1, 1)),
  });
  const input = { certificatePem: issued.certificatePem, privateKey: issued.privateKey };

  it("accepts it inside its validity", () => {
    expect(loadCertificate(input, Date.UTC(2030, 0, 15)).binding.x5tS256).toBe(issued.x5tS256);
  });
  it("refuses it before notBefore", () => {
    expect(codeOf(() => loadCertificate(input, Date.UTC(2029, 11, 31)))).toBe("certificate_not_yet_valid");
  });
  it("refuses it after notAfter", () => {
    expect(codeOf(() => loadCertificate(input, Date.UTC(2030, 1, 2)))).toBe("certificate_expired");
  });
});

describe("certificate resolver", () => {
  const ca = createCertificateAuthority();
  const a = ca.issue({ commonName: "a" });
  const b = ca.issue({ commonName: "b" });

  it("parses a provider's answer once while it stays the same, by value", async () => {
    let current = a;
    let calls = 0;
    const resolver = createCertificateResolver(() => {
      calls++;
      // A fresh object with fresh bytes every time, like a provider reading files.
      return {
        certificatePem: Buffer.from(current.certificatePem),
        privateKeyPem: Buffer.from(current.keyPem),
      };
    }, NOW);
    expect(calls).toBe(0);
    const first = await resolver.current(NOW, true);
    const second = await resolver.current(NOW, true);
    expect(calls).toBe(2);
    expect(second).toBe(first);
    current = b;
    const rotated = await resolver.current(NOW, true);
    expect(rotated.binding.x5tS256).toBe(b.x5tS256);
    expect(rotated).not.toBe(first);
  });

  it("parses a fixed certificate at once and checks its validity on every use", async () => {
    expect(() => createCertificateResolver({ certificatePem: a.certificatePem }, NOW)).toThrow(
      expect.objectContaining({ code: "cert_without_private_key" }),
    );
    const resolver = createCertificateResolver(
      { certificatePem: a.certificatePem, privateKey: a.privateKey },
      NOW,
    );
    await expect(resolver.current(a.notAfter.getTime() + 1, false)).rejects.toMatchObject({
      code: "certificate_expired",
    });
  });

  it("reports a provider that returns nothing or throws", async () => {
    const empty = createCertificateResolver(() => undefined as unknown as CertificateInput, NOW);
    await expect(empty.current(NOW, true)).rejects.toMatchObject({ code: "mtls_certificate_not_provided" });
    await expect(empty.current(NOW, false)).rejects.toMatchObject({ code: "invalid_certificate" });
    const failing = createCertificateResolver(async () => {
      throw new Error("vault unreachable");
    }, NOW);
    await expect(failing.current(NOW, true)).rejects.toMatchObject({
      code: "invalid_certificate",
      cause: expect.objectContaining({ message: "vault unreachable" }),
    });
  });
});
