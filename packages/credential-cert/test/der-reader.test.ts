import { asn1, type CertboundErrorCode, isCertboundError } from "@certbound/core";
import { describe, expect, it } from "vitest";
import {
  childrenOf,
  explicitField,
  octetsOf,
  oidOf,
  parseDer,
  sequenceOf,
  smallIntegerOf,
} from "../src/pfx/der-reader";

const hex = (text: string) => Buffer.from(text.replace(/\s/g, ""), "hex");

function codeOf(fn: () => unknown): CertboundErrorCode {
  try {
    fn();
  } catch (error) {
    if (isCertboundError(error)) return error.code;
    throw error;
  }
  throw new Error("expected a CertboundError");
}

describe("DER reader", () => {
  it("reads a SEQUENCE of INTEGER, OID, OCTET STRING and an [0] EXPLICIT field", () => {
    const der = asn1.sequence(
      asn1.integer(3),
      asn1.tlv(0x06, hex("2a864886f70d010701")),
      asn1.octetString(hex("cafe")),
      asn1.explicit(0, asn1.integer(70000)),
    );
    const [version, oid, octets, tagged] = sequenceOf(parseDer(der, "x"), "x", 4);
    expect(smallIntegerOf(version, "v")).toBe(3);
    expect(oidOf(oid, "o")).toBe("1.2.840.113549.1.7.1");
    expect(octetsOf(octets, "s").toString("hex")).toBe("cafe");
    expect(smallIntegerOf(explicitField(tagged, 0, "t"), "i")).toBe(70000);
  });

  it("reads long-form lengths", () => {
    const big = Buffer.alloc(70000, 7);
    const node = parseDer(asn1.octetString(big), "x");
    expect(node.encoded[1]).toBe(0x83);
    expect(octetsOf(node, "x").equals(big)).toBe(true);
  });

  it("decodes OIDs with large arcs and the 2.x form", () => {
    expect(oidOf(parseDer(hex("0609 608648016503040201"), "x"), "o")).toBe("2.16.840.1.101.3.4.2.1");
    expect(oidOf(parseDer(hex("0603 883703"), "x"), "o")).toBe("2.999.3");
  });

  it("reads BER: indefinite lengths and constructed OCTET STRINGs", () => {
    // SEQUENCE (indefinite) { OCTET STRING (constructed, indefinite) { "ab", "cd" }, [0] (indefinite) { NULL } }
    const ber = hex("3080 2480 0401ab 0401cd 0000 a080 0500 0000 0000");
    const node = parseDer(ber, "x");
    expect(node.encoded.length).toBe(ber.length);
    const [octets, tagged] = sequenceOf(node, "x", 2);
    expect(octetsOf(octets, "s").toString("hex")).toBe("abcd");
    expect(explicitField(tagged, 0, "t").tag).toBe(5);
  });

  it("accepts an [n] IMPLICIT OCTET STRING only where asked", () => {
    const node = parseDer(hex("8002beef"), "x");
    expect(octetsOf(node, "s", 0).toString("hex")).toBe("beef");
    expect(codeOf(() => octetsOf(node, "s"))).toBe("invalid_certificate");
    // Constructed, with chunks.
    expect(octetsOf(parseDer(hex("a0080402beef0402cafe"), "x"), "s", 0).toString("hex")).toBe("beefcafe");
  });

  it.each([
    ["empty input", ""],
    ["a lone tag", "30"],
    ["content shorter than its length", "3005 020101"],
    ["a length longer than the input", "3084 ffffffff"],
    ["five length octets", "3085 0000000001 00"],
    ["trailing bytes", "3000 00"],
    ["a high tag number", "1f8101 00"],
    ["indefinite length on a primitive", "0480 0000"],
    ["indefinite length without end-of-contents", "3080 020101"],
  ])("refuses %s with invalid_certificate", (_name, bytes) => {
    expect(codeOf(() => parseDer(hex(bytes), "x"))).toBe("invalid_certificate");
  });

  it.each<[string, () => unknown]>([
    ["a negative INTEGER", () => smallIntegerOf(parseDer(hex("0201ff"), "x"), "i")],
    [
      "an INTEGER too large for a number",
      () => smallIntegerOf(parseDer(hex("020701000000000000"), "x"), "i"),
    ],
    ["an empty INTEGER", () => smallIntegerOf(parseDer(hex("0200"), "x"), "i")],
    ["a non-minimal OID arc", () => oidOf(parseDer(hex("0602 8001"), "x"), "o")],
    ["an OID that stops mid-arc", () => oidOf(parseDer(hex("0602 2a86"), "x"), "o")],
    ["an empty OID", () => oidOf(parseDer(hex("0600"), "x"), "o")],
    ["an OID arc beyond 2^53", () => oidOf(parseDer(hex(`060a 2a${"ff".repeat(8)}7f`), "x"), "o")],
    ["a SEQUENCE where a SET is", () => sequenceOf(parseDer(hex("3100"), "x"), "s")],
    ["a SEQUENCE with too few fields", () => sequenceOf(parseDer(hex("3003 020101"), "x"), "s", 2)],
    ["an [0] field with two values", () => explicitField(parseDer(hex("a004 0500 0500"), "x"), 0, "t")],
    ["a [1] field where [0] is expected", () => explicitField(parseDer(hex("a102 0500"), "x"), 0, "t")],
    ["children of a primitive", () => childrenOf(parseDer(hex("0401aa"), "x"), "c")],
    ["a chunk that is not an OCTET STRING", () => octetsOf(parseDer(hex("2403 020101"), "x"), "s")],
  ])("refuses %s", (_name, read) => {
    expect(codeOf(read)).toBe("invalid_certificate");
  });

  it("bounds nesting instead of overflowing the stack", () => {
    // 100,000 nested indefinite-length SEQUENCEs.
    const deep = Buffer.from(`${"3080".repeat(100_000)}${"0000".repeat(100_000)}`, "hex");
    expect(codeOf(() => parseDer(deep, "x"))).toBe("invalid_certificate");
    // Constructed OCTET STRINGs nested 20 deep (writers use one level): joining the chunks is bounded.
    let chunk = asn1.octetString(hex("aa"));
    for (let i = 0; i < 20; i++) chunk = asn1.tlv(0x24, chunk);
    expect(codeOf(() => octetsOf(parseDer(chunk, "x"), "s"))).toBe("invalid_certificate");
  });
});
