import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { passwordForms } from "../src/pfx/passwords";
import { type Pkcs12KdfPurpose, pkcs12Kdf } from "../src/pfx/pkcs12-kdf";

const hex = (text: string) => Buffer.from(text, "hex");
const bmp = (text: string) => (passwordForms(text)[0] as { bmp: Buffer }).bmp;

// OpenSSL 3's own PKCS12KDF (`openssl kdf`), as an independent implementation to compare with.
function opensslKdf(
  hash: string,
  password: Buffer,
  salt: Buffer,
  iterations: number,
  id: number,
  length: number,
) {
  const out = execFileSync(
    "openssl",
    [
      "kdf",
      "-binary",
      "-keylen",
      String(length),
      "-kdfopt",
      `digest:${hash}`,
      "-kdfopt",
      `hexpass:${password.toString("hex")}`,
      "-kdfopt",
      `hexsalt:${salt.toString("hex")}`,
      "-kdfopt",
      `iter:${iterations}`,
      "-kdfopt",
      `id:${id}`,
      "PKCS12KDF",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  return out.toString("hex");
}

describe("PKCS#12 key derivation (RFC 7292 appendix B)", () => {
  it("encodes the password as UTF-16BE with a two-byte terminator", () => {
    expect(bmp("smeg").toString("hex")).toBe("0073006d006500670000");
    // Outside the BMP: a surrogate pair, as OpenSSL's UTF-8 to BMP conversion writes it.
    expect(bmp("\u{1F512}").toString("hex")).toBe("d83ddd120000");
  });

  // The long-published vectors for password "smeg" (BouncyCastle and others test against them).
  it("derives the published SHA-1 key and IV for password 'smeg'", () => {
    const salt = hex("0a58cf64530d823f");
    const derive = (purpose: Pkcs12KdfPurpose, length: number) =>
      pkcs12Kdf({ hash: "sha1", password: bmp("smeg"), salt, iterations: 1, purpose, length }).toString(
        "hex",
      );
    expect(derive(1, 24)).toBe("8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3");
    expect(derive(2, 8)).toBe("79993dfe048d3b76");
  });

  // Lengths beyond one hash output exercise the I_j + B + 1 update between rounds; passwords and
  // salts longer than a block exercise the stretching.
  it.each([
    ["sha1", "correct horse battery staple", "0102030405060708", 2048, 3, 20],
    ["sha1", "p", "00", 5, 1, 61],
    ["sha256", "correct horse battery staple", "b5bbecc549346c5a", 2048, 3, 32],
    [
      "sha256",
      "a much longer passphrase that spans more than one sixty-four byte block",
      "aa".repeat(70),
      7,
      1,
      100,
    ],
    ["sha384", "pässwörd", "ff".repeat(9), 3, 2, 48],
    ["sha512", "x", "0102", 3, 3, 150],
    ["sha224", "", "0102", 2, 1, 40],
  ] as const)(
    "matches OpenSSL's PKCS12KDF: %s, password %j",
    (hash, password, salt, iterations, id, length) => {
      for (const form of passwordForms(password)) {
        const ours = pkcs12Kdf({
          hash,
          password: form.bmp,
          salt: hex(salt),
          iterations,
          purpose: id,
          length,
        }).toString("hex");
        expect(ours).toHaveLength(length * 2);
        expect(ours).toBe(opensslKdf(hash, form.bmp, hex(salt), iterations, id, length));
      }
    },
  );

  it("refuses a hash it is not defined for", () => {
    expect(() =>
      pkcs12Kdf({ hash: "md5", password: bmp("x"), salt: hex("00"), iterations: 1, purpose: 1, length: 8 }),
    ).toThrow(expect.objectContaining({ code: "invalid_certificate" }));
  });
});
