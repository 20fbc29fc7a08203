import { createHmac, randomBytes, X509Certificate } from "node:crypto";
import { type CertboundErrorCode, isCertboundError } from "@certbound/core";
import { asn1, x5tS256 } from "@certbound/core/credential-kit";
import fc from "fast-check";
import forge from "node-forge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPfx } from "../src/index";
import { makePfxVariants, PFX_VARIANT_NAMES, type PfxVariants, VARIANT_PASSPHRASE } from "./pfx-variants";

let fx: PfxVariants;
let expectedX5t: string;
beforeAll(() => {
  fx = makePfxVariants();
  expectedX5t = x5tS256(new X509Certificate(fx.certPem).raw);
});
afterAll(() => fx?.cleanup());

const variant = (name: string) => {
  const found = fx.variants[name];
  if (!found) throw new Error(`no variant ${name}`);
  return found;
};
const MODERN = "OpenSSL 3 default (PBES2 AES-256-CBC, HMAC-SHA256)";
const LEGACY = "legacy (RC2-40 certificates, 3DES key, HMAC-SHA1)";
const LEGACY_NO_MAC = "no MAC (legacy)";
const PLAIN = "no encryption, no MAC";
const RC2_128 = "RC2-128 certificates, 2-key 3DES key (pbeWithSHAAnd2-KeyTripleDES)";

const READ_PFX_CODES = new Set<CertboundErrorCode>([
  "wrong_passphrase",
  "invalid_certificate",
  "invalid_private_key",
]);

function failure(fn: () => unknown): { code: CertboundErrorCode; message: string } {
  try {
    fn();
  } catch (error) {
    if (isCertboundError(error)) {
      expect(error.message).not.toContain(VARIANT_PASSPHRASE);
      return { code: error.code, message: error.message };
    }
    throw error;
  }
  throw new Error("expected a CertboundError");
}

// An independent walk over definite-length DER, for building damaged and re-encoded files.
interface Tlv {
  id: number;
  start: number;
  contentStart: number;
  end: number;
}
function tlvAt(buf: Buffer, pos: number): Tlv {
  const id = buf[pos] as number;
  let length = buf[pos + 1] as number;
  let header = 2;
  if (length & 0x80) {
    header += length & 0x7f;
    length = buf.readUIntBE(pos + 2, length & 0x7f);
  }
  return { id, start: pos, contentStart: pos + header, end: pos + header + length };
}
function childTlvs(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.contentStart; pos < parent.end; pos = (out.at(-1) as Tlv).end)
    out.push(tlvAt(buf, pos));
  return out;
}
const slice = (buf: Buffer, t: Tlv) => buf.subarray(t.start, t.end);

// BER as some Windows and Java versions write it: every constructed element with an indefinite
// length, every longer OCTET STRING split into chunks. Does not descend into OCTET STRING contents.
function toBer(buf: Buffer, from = 0, to = buf.length): Buffer {
  const out: Buffer[] = [];
  for (let pos = from; pos < to; ) {
    const t = tlvAt(buf, pos);
    if (t.id & 0x20) {
      out.push(Buffer.from([t.id, 0x80]), toBer(buf, t.contentStart, t.end), Buffer.alloc(2));
    } else if (t.id === 0x04 && t.end - t.contentStart > 5) {
      const chunks: Buffer[] = [];
      for (let c = t.contentStart; c < t.end; c += 5)
        chunks.push(asn1.octetString(buf.subarray(c, Math.min(c + 5, t.end))));
      out.push(Buffer.from([0x24, 0x80]), ...chunks, Buffer.alloc(2));
    } else {
      out.push(slice(buf, t));
    }
    pos = t.end;
  }
  return Buffer.concat(out);
}

function flip(buf: Buffer, offset: number): Buffer {
  const copy = Buffer.from(buf);
  copy[offset] = (copy[offset] as number) ^ 0x01;
  return copy;
}

function expectTheCertificate(bytes: Buffer, passphrase: string | undefined) {
  const { certificates, keys } = readPfx(bytes, passphrase);
  expect(certificates.map((c) => x5tS256(c.raw))).toEqual([expectedX5t]);
  expect(keys).toHaveLength(1);
  expect(keys[0]?.asymmetricKeyType).toBe("ec");
  expect(certificates[0]?.checkPrivateKey(keys[0] as never)).toBe(true);
}

describe("readPfx: encodings openssl writes", () => {
  it("the fixtures use the encodings their names say", () => {
    // Spot checks that openssl did what was asked (the names carry the rest).
    expect(variant(LEGACY).bytes.includes(Buffer.from("2a864886f70d010c0106", "hex"))).toBe(true); // RC2-40
    expect(variant(LEGACY).bytes.includes(Buffer.from("2a864886f70d010c0103", "hex"))).toBe(true); // 3-key 3DES
    const rc2128 = variant(RC2_128).bytes;
    expect(rc2128.includes(Buffer.from("2a864886f70d010c0105", "hex"))).toBe(true);
    expect(rc2128.includes(Buffer.from("2a864886f70d010c0104", "hex"))).toBe(true);
    // No MAC: the PFX SEQUENCE has two elements.
    const noMac = variant(LEGACY_NO_MAC).bytes;
    expect(childTlvs(noMac, tlvAt(noMac, 0))).toHaveLength(2);
    // -nomaciter leaves the MAC's iteration count out (DEFAULT 1).
    const oneIter = variant("one iteration, MAC iteration count left out").bytes;
    const [, , macData] = childTlvs(oneIter, tlvAt(oneIter, 0));
    expect(childTlvs(oneIter, macData as Tlv)).toHaveLength(2);
  });

  it.each(PFX_VARIANT_NAMES)("reads %s", (name) => {
    const { bytes, passphrase } = variant(name);
    expectTheCertificate(bytes, passphrase);
  });

  it("refuses the encodings node-forge does not read (RC2-128, 2-key 3DES) by name", () => {
    const { bytes, passphrase } = variant(RC2_128);
    for (const pass of [passphrase, "not the passphrase"]) {
      const { code, message } = failure(() => readPfx(bytes, pass));
      expect(code).toBe("invalid_certificate");
      expect(message).toMatch(/128-bit RC2 \(pbeWithSHAAnd128BitRC2-CBC\)/);
      expect(message).toMatch(/openssl pkcs12 -export/);
    }
  });

  it("treats an empty passphrase and none alike", () => {
    expectTheCertificate(variant("empty passphrase (modern)").bytes, undefined);
    expectTheCertificate(variant("empty passphrase (legacy)").bytes, undefined);
  });

  it.each(PFX_VARIANT_NAMES)("refuses %s with a wrong passphrase", (name) => {
    const { bytes, protectedByPassphrase } = variant(name);
    if (!protectedByPassphrase) {
      // Nothing to check the passphrase against: any passphrase reads it.
      expectTheCertificate(bytes, "anything");
      return;
    }
    expect(failure(() => readPfx(bytes, "not the passphrase")).code).toBe("wrong_passphrase");
  });

  it("reads a file whose MAC was keyed with no password at all (zero bytes), as Windows writes it", () => {
    // The unencrypted file with a MAC added, keyed by the PKCS#12 KDF over a zero-length password
    // (OpenSSL keys it with the empty string's two-byte terminator, and reads both).
    const { bytes } = variant(PLAIN);
    const [version, authSafeInfo] = childTlvs(bytes, tlvAt(bytes, 0)) as [Tlv, Tlv];
    const [, explicit0] = childTlvs(bytes, authSafeInfo) as [Tlv, Tlv];
    const authSafe = childTlvs(bytes, explicit0)[0] as Tlv;
    const salt = randomBytes(8);
    const key = forge.pkcs12.generateKey(null, forge.util.createBuffer(salt.toString("binary")), 3, 2048, 20);
    const mac = createHmac("sha1", Buffer.from(key.getBytes(), "binary"))
      .update(bytes.subarray(authSafe.contentStart, authSafe.end))
      .digest();
    const sha1 = asn1.sequence(asn1.tlv(0x06, Buffer.from("2b0e03021a", "hex")), asn1.nullValue());
    const withMac = asn1.sequence(
      slice(bytes, version),
      slice(bytes, authSafeInfo),
      asn1.sequence(asn1.sequence(sha1, asn1.octetString(mac)), asn1.octetString(salt), asn1.integer(2048)),
    );
    expectTheCertificate(withMac, undefined);
    expectTheCertificate(withMac, "");
    expect(failure(() => readPfx(withMac, "not the passphrase")).code).toBe("wrong_passphrase");
  });

  it("says a passphrase is needed when none was given", () => {
    const { code, message } = failure(() => readPfx(variant(MODERN).bytes, undefined));
    expect(code).toBe("wrong_passphrase");
    expect(message).toMatch(/Pass it as `passphrase`/);
    expect(failure(() => readPfx(variant(LEGACY_NO_MAC).bytes, "")).code).toBe("wrong_passphrase");
  });

  it("reads BER: indefinite lengths and chunked OCTET STRINGs around the contents and the MAC", () => {
    for (const name of [MODERN, LEGACY_NO_MAC]) {
      const { bytes, passphrase } = variant(name);
      const ber = toBer(bytes);
      expect(ber.length).toBeGreaterThan(bytes.length);
      expect(ber.subarray(0, 2).toString("hex")).toBe("3080");
      expectTheCertificate(ber, passphrase);
    }
  });

  it("takes a Uint8Array view into a larger buffer", () => {
    const { bytes } = variant(MODERN);
    const big = new Uint8Array(bytes.length + 20);
    big.set(bytes, 10);
    expectTheCertificate(Buffer.from(big.subarray(10, 10 + bytes.length)), VARIANT_PASSPHRASE);
    const { certificates } = readPfx(big.subarray(10, 10 + bytes.length), VARIANT_PASSPHRASE);
    expect(certificates).toHaveLength(1);
  });
});

describe("readPfx: damaged and unsupported files", () => {
  it("refuses every truncation of a PFX with invalid_certificate", () => {
    for (const name of [MODERN, LEGACY_NO_MAC]) {
      const { bytes, passphrase } = variant(name);
      for (let length = 0; length < bytes.length; length++) {
        expect(failure(() => readPfx(bytes.subarray(0, length), passphrase)).code).toBe(
          "invalid_certificate",
        );
      }
    }
  });

  it("refuses a changed byte in the contents as a failed integrity check (wrong_passphrase)", () => {
    const { bytes } = variant(MODERN);
    const { message, code } = failure(() =>
      readPfx(flip(bytes, Math.floor(bytes.length / 2)), VARIANT_PASSPHRASE),
    );
    expect(code).toBe("wrong_passphrase");
    expect(message).toMatch(/integrity check failed/);
  });

  it("refuses a changed MAC value or MAC salt (wrong_passphrase)", () => {
    const { bytes } = variant(MODERN);
    const [, , macData] = childTlvs(bytes, tlvAt(bytes, 0));
    const [digestInfo, salt] = childTlvs(bytes, macData as Tlv);
    const [, digest] = childTlvs(bytes, digestInfo as Tlv);
    expect(failure(() => readPfx(flip(bytes, (digest as Tlv).end - 1), VARIANT_PASSPHRASE)).code).toBe(
      "wrong_passphrase",
    );
    expect(failure(() => readPfx(flip(bytes, (salt as Tlv).end - 1), VARIANT_PASSPHRASE)).code).toBe(
      "wrong_passphrase",
    );
  });

  it("without a MAC, a changed ciphertext shows as a wrong passphrase or a damaged file, never as success", () => {
    // openssl -nomac leaves the certificates unencrypted: the shrouded key is at the end of the file.
    for (const [name, step] of [
      ["no MAC (modern)", 3],
      [LEGACY_NO_MAC, 11],
    ] as const) {
      const { bytes, passphrase } = variant(name);
      for (let offset = bytes.length - 300; offset < bytes.length; offset += step) {
        let result: { code: CertboundErrorCode } | undefined;
        try {
          readPfx(flip(bytes, offset), passphrase);
        } catch (error) {
          if (!isCertboundError(error)) throw error;
          result = error;
        }
        // A flip in a bag attribute (the key's localKeyID) changes nothing that is read: a success.
        if (result) expect(READ_PFX_CODES).toContain(result.code);
      }
    }
  });

  it("refuses a damaged unencrypted key with invalid_private_key", () => {
    const { bytes } = variant(PLAIN);
    // The PKCS#8 version INTEGER of the key bag: 02 01 00 followed by the AlgorithmIdentifier.
    const at = bytes.indexOf(Buffer.from("020100301306072a8648ce3d0201", "hex"));
    expect(at).toBeGreaterThan(0);
    const damaged = Buffer.from(bytes);
    damaged[at + 5] = 0x14; // the AlgorithmIdentifier's length
    expect(failure(() => readPfx(damaged, undefined)).code).toBe("invalid_private_key");
  });

  it("refuses an absurd iteration count before spending time on it", () => {
    const { bytes } = variant(MODERN);
    const [version, authSafe, macData] = childTlvs(bytes, tlvAt(bytes, 0)) as [Tlv, Tlv, Tlv];
    const [digestInfo, salt] = childTlvs(bytes, macData) as [Tlv, Tlv];
    const rebuilt = asn1.sequence(
      slice(bytes, version),
      slice(bytes, authSafe),
      asn1.sequence(slice(bytes, digestInfo), slice(bytes, salt), asn1.integer(2_000_000_000)),
    );
    const { code, message } = failure(() => readPfx(rebuilt, VARIANT_PASSPHRASE));
    expect(code).toBe("invalid_certificate");
    expect(message).toMatch(/2000000000 iterations/);
  });

  it.each<[string, () => Buffer, RegExp]>([
    [
      "public-key integrity (signedData)",
      () =>
        asn1.sequence(
          asn1.integer(3),
          asn1.sequence(
            asn1.tlv(0x06, Buffer.from("2a864886f70d010702", "hex")),
            asn1.explicit(0, asn1.sequence()),
          ),
        ),
      /signedData/,
    ],
    [
      "a PBMAC1 integrity check",
      () => {
        const { bytes } = variant(MODERN);
        const sha256 = Buffer.from("0609608648016503040201", "hex");
        const pbmac1 = Buffer.from("06092a864886f70d01050e", "hex");
        const at = bytes.lastIndexOf(sha256);
        return Buffer.concat([bytes.subarray(0, at), pbmac1, bytes.subarray(at + sha256.length)]);
      },
      /PBMAC1/,
    ],
    [
      "RC4 encryption",
      () => {
        // Only without a MAC can the contents be edited and still get to decryption.
        const bytes = Buffer.from(variant(LEGACY_NO_MAC).bytes);
        const des3 = bytes.indexOf(Buffer.from("2a864886f70d010c0103", "hex"));
        expect(des3).toBeGreaterThan(0);
        bytes[des3 + 9] = 0x01; // pbeWithSHAAnd128BitRC4
        return bytes;
      },
      /RC4/,
    ],
    ["version 2", () => asn1.sequence(asn1.integer(2), asn1.sequence()), /version/],
  ])("refuses %s with invalid_certificate", (_name, make, message) => {
    const result = failure(() => readPfx(make(), VARIANT_PASSPHRASE));
    expect(result.code).toBe("invalid_certificate");
    expect(result.message).toMatch(message);
  });

  it("refuses input that is not bytes, and a passphrase that is not a string", () => {
    expect(failure(() => readPfx("MIIB" as never, undefined)).code).toBe("invalid_certificate");
    expect(failure(() => readPfx(variant(MODERN).bytes, 1234 as never)).code).toBe("invalid_options");
  });
});

describe("readPfx: any input gives contents or a typed error, never a crash or a hang", () => {
  const typed = (fn: () => unknown): boolean => {
    try {
      fn();
      return true;
    } catch (error) {
      return isCertboundError(error) && READ_PFX_CODES.has(error.code);
    }
  };

  it("arbitrary bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.option(fc.string(), { nil: undefined }),
        (bytes, pass) => typed(() => readPfx(bytes, pass)),
      ),
      { numRuns: 300 },
    );
  });

  // Random DER shaped like a PFX, so that inputs get past the first checks: known OIDs, small
  // iteration counts, random trees where values go.
  const OIDS = [
    "2a864886f70d010701",
    "2a864886f70d010706",
    "2a864886f70d010c0a0101",
    "2a864886f70d010c0a0102",
    "2a864886f70d010c0a0103",
    "2a864886f70d010c0a0106",
    "2a864886f70d01091601",
    "2a864886f70d01050d",
    "2a864886f70d01050c",
    "2a864886f70d010c0103",
    "2a864886f70d010c0106",
    "608648016503040201",
    "2b0e03021a",
    "60864801650304012a",
  ].map((h) => asn1.tlv(0x06, Buffer.from(h, "hex")));
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constantFrom(...OIDS),
      fc.integer({ min: 0, max: 40 }).map((n) => asn1.integer(n)),
      fc.uint8Array({ maxLength: 40 }).map((b) => asn1.octetString(b)),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
      fc.array(tie("tree"), { maxLength: 4 }).map((items) => asn1.sequence(...(items as Buffer[]))),
      tie("tree").map((inner) => asn1.explicit(0, inner as Buffer)),
      tie("tree").map((inner) => asn1.octetString(inner as Buffer)),
    ),
  }));
  const bag = fc
    .tuple(fc.constantFrom(...OIDS.slice(2, 7)), tree)
    .map(([id, value]) => asn1.sequence(id, asn1.explicit(0, value as Buffer)));
  const safeContents = fc.array(bag, { maxLength: 3 }).map((bags) => asn1.sequence(...bags));
  const contentInfo = fc.oneof(
    safeContents.map((sc) => asn1.sequence(OIDS[0] as Buffer, asn1.explicit(0, asn1.octetString(sc)))),
    fc
      .tuple(tree, fc.uint8Array({ maxLength: 64 }))
      .map(([algorithm, data]) =>
        asn1.sequence(
          OIDS[1] as Buffer,
          asn1.explicit(
            0,
            asn1.sequence(
              asn1.integer(0),
              asn1.sequence(OIDS[0] as Buffer, algorithm as Buffer, asn1.implicit(0, data)),
            ),
          ),
        ),
      ),
  );
  const pfx = fc
    .tuple(fc.array(contentInfo, { maxLength: 3 }), fc.option(tree, { nil: undefined }))
    .map(([infos, mac]) =>
      asn1.sequence(
        asn1.integer(3),
        asn1.sequence(OIDS[0] as Buffer, asn1.explicit(0, asn1.octetString(asn1.sequence(...infos)))),
        ...(mac ? [mac as Buffer] : []),
      ),
    );

  it("random PFX-shaped structures", () => {
    fc.assert(
      fc.property(pfx, fc.option(fc.string(), { nil: undefined }), (bytes, pass) =>
        typed(() => readPfx(bytes, pass)),
      ),
      { numRuns: 300 },
    );
  });

  it("real files with bytes changed, cut or inserted", () => {
    const files = [variant(MODERN), variant(LEGACY), variant(LEGACY_NO_MAC), variant(PLAIN)];
    const edit = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.nat(255) }),
      fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...files),
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        (file, edits) => {
          let bytes = Buffer.from(file.bytes);
          for (const e of edits) {
            const at = e.at % bytes.length;
            if (e.kind === "set") bytes[at] = e.value;
            else if (e.kind === "cut")
              bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + e.length)]);
            else bytes = Buffer.concat([bytes.subarray(0, at), e.bytes, bytes.subarray(at)]);
          }
          return typed(() => readPfx(bytes, file.passphrase));
        },
      ),
      { numRuns: 150 },
    );
  });
});
