// A PFX's key-derivation work is bounded for the whole file, not only per part (outside review,
// hardening item 16). Files are made with the openssl CLI at test time and then given many
// encrypted parts, as an attacker would; the work is counted (calls into the key derivation
// functions), never timed. node-forge reads the file: its PKCS#12 KDF (the MAC and the legacy
// schemes) is spied on where forge calls it, and PBKDF2 (PBES2), which certbound hands to
// node:crypto, where node:crypto is called.

import { execFileSync } from "node:child_process";
import { createCipheriv, pbkdf2Sync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CertboundErrorCode, isCertboundError } from "@certbound/core";
import { asn1 } from "@certbound/core/credential-kit";
import forge from "node-forge";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createConfidentialClient, readPfx } from "../src/index";
import { DEFAULT_MAX_KDF_ITERATIONS } from "../src/pfx/limits";
import { PfxWorkBudget } from "../src/pfx/work-budget";
import { makeSelfSignedPair } from "./pfx-variants";

const work = vi.hoisted(() => ({ pbkdf2: 0, pbkdf2Iterations: 0 }));
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return {
    ...actual,
    pbkdf2Sync: (...args: Parameters<typeof actual.pbkdf2Sync>) => {
      work.pbkdf2++;
      work.pbkdf2Iterations += args[2];
      return actual.pbkdf2Sync(...args);
    },
  };
});

// forge's PKCS#12 KDF, under both names it is called by: pkcs12.generateKey (the MAC) and
// pki.pbe.generatePkcs12Key (the legacy encryption schemes).
const pbe = (forge.pki as unknown as { pbe: { generatePkcs12Key: (...args: never[]) => unknown } }).pbe;
const macKdf = vi.spyOn(forge.pkcs12, "generateKey");
const pbeKdf = vi.spyOn(pbe, "generatePkcs12Key");
const originalPbkdf2 = forge.pkcs5.pbkdf2;
// iterations x blocks of what forge's PKCS#12 KDF actually ran.
const pkcs12Units = () =>
  [...macKdf.mock.calls, ...pbeKdf.mock.calls].reduce((sum, call) => {
    const [, , , iterations, bytes, md] = call as unknown as [
      unknown,
      unknown,
      unknown,
      number,
      number,
      { digestLength?: number }?,
    ];
    return sum + iterations * Math.ceil(bytes / (md?.digestLength ?? 20));
  }, 0);
beforeEach(() => {
  macKdf.mockClear();
  pbeKdf.mockClear();
});
afterEach(() => {
  // The metered run puts forge's functions back, whatever happened in it.
  expect(forge.pkcs12.generateKey).toBe(macKdf);
  expect(pbe.generatePkcs12Key).toBe(pbeKdf);
  expect(forge.pkcs5.pbkdf2).toBe(originalPbkdf2);
});

const PASS = "budget passphrase";
let dir: string;
const openssl = (args: string[]) =>
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
const exportPfx = (name: string, options: string[]) => {
  openssl([
    "pkcs12",
    "-export",
    "-in",
    "cert.pem",
    "-inkey",
    "key.pem",
    "-out",
    name,
    "-passout",
    `pass:${PASS}`,
    ...options,
  ]);
  return readFileSync(join(dir, name));
};

let modern: Buffer; // OpenSSL 3 defaults
let legacy: Buffer; // -legacy
let heavy: Buffer; // -iter 100000: 300,000 iterations in all, a legitimate file under the budget
let heavyNoMac: Buffer; // the same without a MAC (openssl then leaves the certificates unencrypted)
let sha512Mac: Buffer; // -iter 100000 -macalg sha512: the MAC charged 4 units an iteration
let justOver: Buffer; // -iter 350000: 1,050,000 in all

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "certbound-pfx-budget-"));
  makeSelfSignedPair(openssl, "budget");
  for (const cn of ["ca1", "ca2", "ca3"]) {
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${cn}.key`]);
    openssl([
      "req",
      "-x509",
      "-new",
      "-key",
      `${cn}.key`,
      "-out",
      `${cn}.pem`,
      "-days",
      "30",
      "-subj",
      `/CN=${cn}`,
    ]);
  }
  // -certfile takes one file: three more certificates in it.
  writeFileSync(
    join(dir, "cas.pem"),
    ["ca1", "ca2", "ca3"].map((cn) => readFileSync(join(dir, `${cn}.pem`), "utf8")).join(""),
  );
  const certfiles = ["-certfile", "cas.pem"];
  modern = exportPfx("modern.pfx", []);
  legacy = exportPfx("legacy.pfx", ["-legacy"]);
  heavy = exportPfx("heavy.pfx", [...certfiles, "-iter", "100000"]);
  heavyNoMac = exportPfx("heavy-nomac.pfx", [...certfiles, "-iter", "100000", "-nomac"]);
  justOver = exportPfx("over.pfx", ["-iter", "350000"]);
  sha512Mac = exportPfx("sha512-mac.pfx", ["-iter", "100000", "-macalg", "sha512"]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A minimal walk over the DER openssl writes (definite lengths), independent of the reader under test.
interface Tlv {
  start: number;
  contentStart: number;
  end: number;
}
function tlvAt(buf: Buffer, pos: number): Tlv {
  let length = buf[pos + 1] as number;
  let header = 2;
  if (length & 0x80) {
    header += length & 0x7f;
    length = buf.readUIntBE(pos + 2, length & 0x7f);
  }
  return { start: pos, contentStart: pos + header, end: pos + header + length };
}
function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.contentStart; pos < parent.end; pos = (out.at(-1) as Tlv).end)
    out.push(tlvAt(buf, pos));
  return out;
}
const bytesOf = (buf: Buffer, t: Tlv) => buf.subarray(t.start, t.end);
const contentOf = (buf: Buffer, t: Tlv) => buf.subarray(t.contentStart, t.end);

/** The PFX's parts: version, the AuthenticatedSafe's ContentInfos, and the MAC data (if any). */
function partsOf(pfx: Buffer) {
  const [version, authSafeInfo, macData] = children(pfx, tlvAt(pfx, 0)) as [Tlv, Tlv, Tlv | undefined];
  const [, explicit0] = children(pfx, authSafeInfo) as [Tlv, Tlv];
  const octets = children(pfx, explicit0)[0] as Tlv;
  const authSafe = contentOf(pfx, octets);
  const infos = children(authSafe, tlvAt(authSafe, 0)).map((t) => bytesOf(authSafe, t));
  return { version: bytesOf(pfx, version), infos, mac: macData ? bytesOf(pfx, macData) : undefined };
}
const DATA = asn1.oid("1.2.840.113549.1.7.1");
const ENCRYPTED_DATA = asn1.oid("1.2.840.113549.1.7.6");
const SHROUDED_KEY_BAG = asn1.oid("1.2.840.113549.1.12.10.1.2");
const isEncryptedData = (info: Buffer) => info.includes(ENCRYPTED_DATA);

/** A PFX with these ContentInfos and (optionally) a MAC data, which the change leaves stale. */
function rebuild(version: Buffer, infos: Buffer[], mac?: Buffer): Buffer {
  const authSafe = asn1.sequence(...infos);
  const outer = asn1.sequence(DATA, asn1.explicit(0, asn1.octetString(authSafe)));
  return mac ? asn1.sequence(version, outer, mac) : asn1.sequence(version, outer);
}

/** An EncryptedData ContentInfo of `inner` (PBES2: one PBKDF2-HMAC-SHA256 iteration, AES-256-CBC). */
function encryptedInfo(inner: Buffer): Buffer {
  const salt = randomBytes(8);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(PASS, salt, 1, 32, "sha256");
  const cipher = createCipheriv("aes-256-cbc", key, iv);
  const encrypted = Buffer.concat([cipher.update(inner), cipher.final()]);
  const algorithm = asn1.sequence(
    asn1.oid("1.2.840.113549.1.5.13"),
    asn1.sequence(
      asn1.sequence(
        asn1.oid("1.2.840.113549.1.5.12"),
        asn1.sequence(
          asn1.octetString(salt),
          asn1.integer(1),
          asn1.sequence(asn1.oid("1.2.840.113549.2.9"), asn1.nullValue()),
        ),
      ),
      asn1.sequence(asn1.oid("2.16.840.1.101.3.4.1.42"), asn1.octetString(iv)),
    ),
  );
  return asn1.sequence(
    ENCRYPTED_DATA,
    asn1.explicit(
      0,
      asn1.sequence(asn1.integer(0), asn1.sequence(DATA, algorithm, asn1.implicit(0, encrypted))),
    ),
  );
}

/** The first SafeBag (the 100,000-iteration shrouded key) of heavyNoMac's unencrypted SafeContents. */
function heavyKeyBag(): { version: Buffer; keyBag: Buffer } {
  const { version, infos } = partsOf(heavyNoMac);
  const plainInfo = infos.find((i) => i.includes(SHROUDED_KEY_BAG)) as Buffer;
  const [, explicit0] = children(plainInfo, tlvAt(plainInfo, 0)) as [Tlv, Tlv];
  const octets = children(plainInfo, explicit0)[0] as Tlv;
  const safeContents = contentOf(plainInfo, octets);
  return { version, keyBag: bytesOf(safeContents, children(safeContents, tlvAt(safeContents, 0))[0] as Tlv) };
}

function refusal(fn: () => unknown): { code: CertboundErrorCode; message: string } {
  try {
    fn();
  } catch (error) {
    if (isCertboundError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a CertboundError");
}

/** Runs `fn`, counting PBKDF2 runs, PKCS#12 KDF runs, and the work units both did. */
const counted = <T>(fn: () => T): { result: T; pbkdf2: number; pkcs12: number; units: number } => {
  work.pbkdf2 = 0;
  work.pbkdf2Iterations = 0;
  macKdf.mockClear();
  pbeKdf.mockClear();
  const result = fn();
  const pkcs12 = macKdf.mock.calls.length + pbeKdf.mock.calls.length;
  return { result, pbkdf2: work.pbkdf2, pkcs12, units: pkcs12Units() + work.pbkdf2Iterations };
};

describe("readPfx: key-derivation work is bounded for the whole file", () => {
  it("the files exporters write stay far below the budget; the count is exact", () => {
    // iterations x derived blocks: OpenSSL 3 defaults are MAC 2,048 + certificates 2,048 + key 2,048.
    expect(readPfx(modern, PASS, { maxKdfIterations: 6144 }).keys).toHaveLength(1);
    expect(refusal(() => readPfx(modern, PASS, { maxKdfIterations: 6143 })).code).toBe("invalid_certificate");
    // -legacy: MAC 2,048 + RC2-40 certificates (key and IV: 2 x 2,048) + 3DES key (24-byte key and IV: 3 x 2,048).
    expect(readPfx(legacy, PASS, { maxKdfIterations: 12288 }).keys).toHaveLength(1);
    expect(refusal(() => readPfx(legacy, PASS, { maxKdfIterations: 12287 })).code).toBe(
      "invalid_certificate",
    );
    expect(DEFAULT_MAX_KDF_ITERATIONS / 12288).toBeGreaterThan(80);
    // What ran is what was counted: the legacy file's MAC and its 3DES and RC2 derivations in forge.
    const legacyRun = counted(() => readPfx(legacy, PASS));
    expect([legacyRun.pbkdf2, legacyRun.pkcs12, legacyRun.units]).toEqual([0, 5, 12288]);
    const modernRun = counted(() => readPfx(modern, PASS));
    expect([modernRun.pbkdf2, modernRun.pkcs12, modernRun.units]).toEqual([2, 1, 6144]);
    // A legitimate file with 100,000 iterations and four certificates reads with the default.
    const { result, pbkdf2 } = counted(() => readPfx(heavy, PASS));
    expect(result.certificates).toHaveLength(4);
    expect(pbkdf2).toBe(2);
  });

  it("refuses a file of many encrypted parts before any key derivation, even before the MAC", () => {
    const { version, infos, mac } = partsOf(heavy);
    const certificates = infos.find(isEncryptedData) as Buffer;
    // 40 copies of the 100,000-iteration certificate contents: 4,000,000 iterations, with the MAC
    // and the key 4,200,000. openssl's MAC no longer matches, which the reader would say if it got there.
    const crafted = rebuild(
      version,
      [...Array(40).fill(certificates), ...infos.filter((i) => i !== certificates)],
      mac,
    );
    const { result } = counted(() => refusal(() => readPfx(crafted, PASS)));
    expect(result.code).toBe("invalid_certificate");
    expect(result.message).toMatch(/needs too much work to open: at least 4200000 key-derivation iterations/);
    expect(result.message).toMatch(/at most 1000000 per file \(`maxKdfIterations`\)/);
    expect(result.message).toMatch(/openssl pkcs12 -export/);
    expect(result.message).not.toContain(PASS);
    // Raised before the work: no PBKDF2 run, no PKCS#12 KDF run (the MAC was not even tried).
    const again = counted(() => refusal(() => readPfx(crafted, PASS)));
    expect([again.pbkdf2, again.pkcs12, again.units]).toEqual([0, 0, 0]);
    // With room for it, node-forge gets the file and does the MAC's 100,000 iterations, which fail.
    const withRoom = counted(() => refusal(() => readPfx(crafted, PASS, { maxKdfIterations: 5_000_000 })));
    expect(withRoom.result.code).toBe("wrong_passphrase");
    expect([withRoom.pkcs12, withRoom.units]).toEqual([1, 100_000]);
  });

  it("refuses hidden parts (shrouded keys inside encrypted contents) before decrypting the first", () => {
    const { version, keyBag } = heavyKeyBag();
    // 20 copies of it in a SafeContents encrypted (PBES2, one PBKDF2 iteration) with the passphrase.
    const encryptedData = encryptedInfo(asn1.sequence(...Array(20).fill(keyBag)));
    const crafted = rebuild(version, [encryptedData]);
    const { result, pbkdf2, pkcs12, units } = counted(() => refusal(() => readPfx(crafted, PASS)));
    expect(result.code).toBe("invalid_certificate");
    expect(result.message).toMatch(/at least 2000001 key-derivation iterations/);
    // One PBKDF2 run (the one-iteration outer decryption), none for the 20 keys it revealed.
    expect([pbkdf2, pkcs12, units]).toEqual([1, 0, 1]);
  });

  it("prices a hidden copy of a visible SafeContents again, before decrypting its first key", () => {
    // Five 100,000-iteration keys in the clear (500,000, within the budget), then the same
    // SafeContents byte for byte inside encrypted contents: forge would decrypt its keys again.
    const { version, keyBag } = heavyKeyBag();
    const safeContents = asn1.sequence(...Array(5).fill(keyBag));
    const visible = asn1.sequence(DATA, asn1.explicit(0, asn1.octetString(safeContents)));
    const crafted = rebuild(version, [visible, encryptedInfo(safeContents)]);
    const { result, pbkdf2, units } = counted(() => refusal(() => readPfx(crafted, PASS)));
    expect(result.code).toBe("invalid_certificate");
    expect(result.message).toMatch(/at least 1000001 key-derivation iterations/);
    // The five visible keys and the one-iteration outer decryption; none of the copy's keys.
    expect([pbkdf2, units]).toEqual([6, 500_001]);
  });

  it("a file just over the budget is refused through createConfidentialClient, and reads with a raised maxKdfIterations", () => {
    const make = (certificate: { pfx: Buffer; passphrase: string; maxKdfIterations?: number }) => () =>
      createConfidentialClient({
        clientId: "app",
        authority: "https://login.microsoftonline.com/contoso.onmicrosoft.com",
        certificate,
        transport: { send: () => Promise.reject(new Error("no network in this test")) },
        env: {},
      });
    const refused = counted(() => refusal(make({ pfx: justOver, passphrase: PASS })));
    expect(refused.result.code).toBe("invalid_certificate");
    expect(refused.result.message).toMatch(/at least 1050000 key-derivation iterations/);
    expect([refused.pbkdf2, refused.pkcs12]).toEqual([0, 0]);
    expect(() => make({ pfx: justOver, passphrase: PASS, maxKdfIterations: 1_050_000 })()).not.toThrow();
  });

  it("charges a SHA-512 MAC four units an iteration: node-forge's JavaScript SHA-512 is that much slower", () => {
    // MAC 100,000 x 4 + certificates 100,000 + key 100,000 = 600,000 with SHA-512; 300,000 with SHA-256.
    const run = counted(() => refusal(() => readPfx(sha512Mac, PASS, { maxKdfIterations: 599_999 })));
    expect(run.result.code).toBe("invalid_certificate");
    expect(run.result.message).toMatch(/at least 600000 key-derivation iterations/);
    // Refused from what the file declares, before the MAC or anything else ran.
    expect([run.pbkdf2, run.pkcs12, run.units]).toEqual([0, 0, 0]);
    // The same file with the iterations SHA-256 would cost is still over: the weight is what refused it.
    expect(refusal(() => readPfx(sha512Mac, PASS, { maxKdfIterations: 300_000 })).code).toBe(
      "invalid_certificate",
    );
  });

  it("refuses a count that is not a number or negative instead of letting it through", () => {
    // A NaN charge would make every later comparison false and so switch the budget off.
    for (const units of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      const budget = new PfxWorkBudget(10);
      expect(refusal(() => budget.charge(units)).code).toBe("invalid_certificate");
      expect(refusal(() => budget.preflight(Number.NaN)).code).toBe("invalid_certificate");
      budget.charge(10);
      expect(refusal(() => budget.charge(1)).code).toBe("invalid_certificate");
    }
  });

  it.each([0, -1, 1.5, Number.NaN, "1000", 2 ** 60])(
    "refuses maxKdfIterations %j with invalid_options",
    (value) => {
      expect(refusal(() => readPfx(modern, PASS, { maxKdfIterations: value as number })).code).toBe(
        "invalid_options",
      );
    },
  );
});
