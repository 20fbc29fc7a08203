import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createBindingCertificate,
  createCertificateAuthority,
  loadPrivateKey,
  parseDerCertificate,
  parsePemChain,
  x5tS256,
} from "@certbound/core/credential-kit";
import { afterAll, describe, expect, it } from "vitest";

const ca = createCertificateAuthority({ commonName: "unit CA" });
const leaf = ca.issue({ commonName: "client", subjectAltNames: ["localhost", "127.0.0.1"] });

// The openssl cases write their PEM files here; removed after the file so no run leaves a folder
// in the system temp directory.
const made: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe("certificate utilities", () => {
  it("computes x5t#S256 exactly as openssl does", () => {
    const dir = tempDir("certbound-x5t-");
    writeFileSync(join(dir, "c.pem"), leaf.certificatePem);
    const der = execFileSync("openssl", ["x509", "-in", join(dir, "c.pem"), "-outform", "DER"]);
    expect(x5tS256(der)).toBe(createHash("sha256").update(der).digest("base64url"));
    expect(leaf.x5tS256).toBe(x5tS256(der));
    expect(leaf.x5tS256).not.toMatch(/[=+/]/);
  });

  it("issues certificates that openssl verifies against the CA", () => {
    const dir = tempDir("certbound-ca-");
    writeFileSync(join(dir, "ca.pem"), ca.certificatePem);
    writeFileSync(join(dir, "leaf.pem"), leaf.certificatePem);
    expect(
      execFileSync("openssl", ["verify", "-CAfile", join(dir, "ca.pem"), join(dir, "leaf.pem")]).toString(),
    ).toContain("OK");
  });

  it("gives every certificate key identifiers (RFC 5280 4.2.1.1-2) that openssl reads and links", () => {
    const dir = mkdtempSync(join(tmpdir(), "certbound-ski-"));
    const text = (pem: string, name: string) => {
      writeFileSync(join(dir, name), pem);
      return execFileSync("openssl", ["x509", "-in", join(dir, name), "-noout", "-text"]).toString();
    };
    const keyId = (t: string, label: string) =>
      new RegExp(`${label}:\\s*\\n\\s*(?:keyid:)?([0-9A-F:]+)`).exec(t)?.[1];
    const caText = text(ca.certificatePem, "ca.pem");
    const rsaLeaf = createCertificateAuthority({ keyType: "rsa" }).issue({ commonName: "r", keyType: "rsa" });
    for (const issued of [leaf, rsaLeaf]) {
      const leafText = text(issued.certificatePem, "leaf.pem");
      expect(keyId(leafText, "X509v3 Subject Key Identifier")).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    }
    const leafText = text(leaf.certificatePem, "leaf.pem");
    const caKeyId = keyId(caText, "X509v3 Subject Key Identifier");
    expect(caKeyId).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(keyId(leafText, "X509v3 Authority Key Identifier")).toBe(caKeyId);
    expect(keyId(caText, "X509v3 Authority Key Identifier")).toBe(caKeyId);
    expect(keyId(leafText, "X509v3 Subject Key Identifier")).not.toBe(caKeyId);
  });

  it("parses PEM chains in order and rejects garbage with invalid_certificate", () => {
    const chain = parsePemChain(`${leaf.certificatePem}\n${ca.certificatePem}`);
    expect(chain.map((c) => c.subject)).toEqual(["CN=client", "CN=unit CA"]);
    expect(() => parsePemChain("nothing here")).toThrow(
      expect.objectContaining({ code: "invalid_certificate" }),
    );
    expect(() => parsePemChain("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")).toThrow(
      expect.objectContaining({ code: "invalid_certificate" }),
    );
    expect(() => parseDerCertificate(Buffer.from([1, 2, 3]))).toThrow(
      expect.objectContaining({ code: "invalid_certificate" }),
    );
  });

  it("loads PKCS#1, PKCS#8, SEC1, DER and encrypted PKCS#8 keys; wrong passphrase has its own code", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const pkcs1 = privateKey.export({ type: "pkcs1", format: "pem" }) as string;
    const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const der = privateKey.export({ type: "pkcs8", format: "der" });
    const encrypted = privateKey.export({
      type: "pkcs8",
      format: "pem",
      cipher: "aes-256-cbc",
      passphrase: "correct horse",
    }) as string;
    for (const key of [pkcs1, pkcs8, der, privateKey])
      expect(loadPrivateKey(key).asymmetricKeyType).toBe("rsa");
    expect(loadPrivateKey(encrypted, { passphrase: "correct horse" }).type).toBe("private");
    const wrong = (() => {
      try {
        loadPrivateKey(encrypted, { passphrase: "battery staple" });
      } catch (e) {
        return e as Error & { code: string };
      }
    })();
    expect(wrong?.code).toBe("wrong_passphrase");
    expect(wrong?.message).not.toContain("battery staple");
    expect(() => loadPrivateKey(encrypted)).toThrow(expect.objectContaining({ code: "wrong_passphrase" }));
    expect(() => loadPrivateKey("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")).toThrow(
      expect.objectContaining({ code: "invalid_private_key" }),
    );
    expect(() => loadPrivateKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey)).toThrow(
      expect.objectContaining({ code: "invalid_private_key" }),
    );
  });

  it("binds a certificate to its key and refuses a mismatched, expired or not-yet-valid one", () => {
    const binding = createBindingCertificate({
      certificate: leaf.certificatePem,
      privateKey: leaf.privateKey,
      now: Date.now(),
    });
    expect(binding.x5tS256).toBe(leaf.x5tS256);
    expect(binding.notAfter.getTime()).toBe(new Date(leaf.certificate.validTo).getTime());
    const other = ca.issue({ commonName: "other" });
    expect(() =>
      createBindingCertificate({ certificate: leaf.certificatePem, privateKey: other.privateKey }),
    ).toThrow(expect.objectContaining({ code: "cert_without_private_key" }));
    const expired = ca.issue({
      commonName: "old",
      notBefore: new Date(Date.now() - 10 * 86400_000),
      notAfter: new Date(Date.now() - 86400_000),
    });
    expect(() =>
      createBindingCertificate({
        certificate: expired.certificatePem,
        privateKey: expired.privateKey,
        now: Date.now(),
      }),
    ).toThrow(expect.objectContaining({ code: "certificate_expired" }));
    const future = ca.issue({ commonName: "new", notBefore: new Date(Date.now() + 86400_000) });
    expect(() =>
      createBindingCertificate({
        certificate: future.certificatePem,
        privateKey: future.privateKey,
        now: Date.now(),
      }),
    ).toThrow(expect.objectContaining({ code: "certificate_not_yet_valid" }));
  });

  it("issues RSA certificates and certifies a foreign public key", () => {
    const rsa = createCertificateAuthority({ keyType: "rsa" });
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const issued = rsa.issue({
      commonName: "csr",
      publicKey,
      subjectPrefix: [["0.9.2342.19200300.100.1.25", "tenant"]],
    });
    expect(issued.certificate.publicKey.export({ type: "spki", format: "der" })).toEqual(
      publicKey.export({ type: "spki", format: "der" }),
    );
    expect(issued.certificate.subject).toContain("CN=csr");
    expect(issued.certificate.subject).toContain("DC=tenant");
    expect(issued.certificate.verify(rsa.certificate.publicKey)).toBe(true);
  });
});
