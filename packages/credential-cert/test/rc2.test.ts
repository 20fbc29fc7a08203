import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { rc2CbcDecrypt } from "../src/pfx/rc2";

const hex = (text: string) => Buffer.from(text, "hex");

describe("RC2 decryption (RFC 2268)", () => {
  // RFC 2268 section 5: key, effective key bits, plaintext, ciphertext. One block in CBC mode with a
  // zero IV is one block of ECB, which is what the RFC's vectors are.
  it.each([
    ["0000000000000000", 63, "0000000000000000", "ebb773f993278eff"],
    ["ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"],
    ["3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"],
    ["88", 64, "0000000000000000", "61a8a244adacccf0"],
    ["88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"],
    ["88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"],
    ["88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"],
    [
      "88bca90e90875a7f0f79c384627bafb216f80a6f85920584c42fceb0be255daf1e",
      129,
      "0000000000000000",
      "5b78d3a43dfff1f1",
    ],
  ] as const)("key %s with %i effective bits", (key, bits, plain, cipher) => {
    expect(rc2CbcDecrypt(hex(key), bits, Buffer.alloc(8), hex(cipher)).toString("hex")).toBe(plain);
  });

  // CBC chaining over several blocks, against OpenSSL's own RC2 (its legacy provider, which the
  // openssl CLI can load even though Node does not).
  it.each([
    ["rc2-40-cbc", 5, 40],
    ["rc2-cbc", 16, 128],
  ] as const)("decrypts what `openssl enc -%s` encrypts", (cipher, keyLength, bits) => {
    const key = randomBytes(keyLength);
    const iv = randomBytes(8);
    const plain = randomBytes(333);
    const encrypted = execFileSync(
      "openssl",
      ["enc", `-${cipher}`, "-K", key.toString("hex"), "-iv", iv.toString("hex"), "-nopad"].concat([
        "-provider",
        "legacy",
        "-provider",
        "default",
      ]),
      { input: Buffer.concat([plain, Buffer.alloc(3)]) },
    );
    expect(encrypted).toHaveLength(336);
    const decrypted = rc2CbcDecrypt(key, bits, iv, encrypted);
    expect(decrypted.subarray(0, 333).equals(plain)).toBe(true);
  });

  it("refuses arguments outside the algorithm's domain", () => {
    expect(() => rc2CbcDecrypt(Buffer.alloc(0), 40, Buffer.alloc(8), Buffer.alloc(8))).toThrow(RangeError);
    expect(() => rc2CbcDecrypt(Buffer.alloc(5), 40, Buffer.alloc(8), Buffer.alloc(7))).toThrow(RangeError);
  });
});
