import { constants, generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildCertificationRequestInfo, buildCsr, CSR_OID, computeUnitIdJson } from "../src/csr";
import { testKeyPair } from "./helpers/keys";
import { opensslReq, opensslVerifies } from "./helpers/openssl";

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const clientId = "5b9c2f3a-1111-4c2d-9e7f-0a1b2c3d4e5f";
describe("buildCsr", () => {
  const { privateKey, publicKey } = testKeyPair();
  const der = buildCsr({
    tenantId,
    clientId,
    cuId: { vmId: "vm-1", vmssId: "vmss-2" },
    privateKey,
    publicKey,
  });

  it("verifies with `openssl req -verify`, and a tampered copy does not", () => {
    expect(opensslVerifies(der)).toBe(true);
    const tampered = Buffer.from(der);
    tampered[tampered.length - 10] = (tampered[tampered.length - 10] as number) ^ 0xff;
    expect(opensslVerifies(tampered)).toBe(false);
  });

  it("shows the DC/CN subject, the cuId attribute and RSASSA-PSS in `openssl req -text`", () => {
    const { status, output: text } = opensslReq(der, ["-text", "-noout"]);
    expect(status).toBe(0);
    expect(text).toMatch(/Version: 1 \(0x0\)/);
    expect(text).toContain(`Subject: DC = ${tenantId}, CN = ${clientId}`);
    expect(text).toContain(CSR_OID.computeUnitId);
    expect(text).toContain('{"vmId":"vm-1","vmssId":"vmss-2"}');
    expect(text).toMatch(/Signature Algorithm: rsassaPss/);
    expect(text).toMatch(/Hash Algorithm: sha256/);
    expect(text).toMatch(/Mask Algorithm: mgf1 with sha256/);
    expect(text).toMatch(/Salt Length: 0x20/);
    expect(text).toMatch(/Public-Key: \(2048 bit\)/);
  });

  it("is signed over the CertificationRequestInfo with PSS, salt 32", () => {
    const info = buildCertificationRequestInfo({
      tenantId,
      clientId,
      cuId: { vmId: "vm-1", vmssId: "vmss-2" },
      publicKey,
    });
    // The request is SEQUENCE { info, algorithm, BIT STRING signature }: the info is embedded verbatim.
    expect(der.includes(info)).toBe(true);
    const signature = der.subarray(der.length - 256);
    expect(
      verify(
        "sha256",
        info,
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        signature,
      ),
    ).toBe(true);
    expect(
      verify(
        "sha256",
        info,
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 },
        signature,
      ),
    ).toBe(false);
  });

  it("encodes the tenant as IA5String and leaves absent cuId fields out", () => {
    const only = buildCsr({ tenantId, clientId, cuId: { vmssId: "s" }, privateKey, publicKey });
    const ia5 = Buffer.concat([Buffer.from([0x16, tenantId.length]), Buffer.from(tenantId, "ascii")]);
    expect(only.includes(ia5)).toBe(true);
    expect(only.includes(Buffer.from('{"vmssId":"s"}'))).toBe(true);
    expect(computeUnitIdJson({ vmId: "a", vmssId: undefined })).toBe('{"vmId":"a"}');
  });

  it("refuses a key that is not RSA", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    expect(() => buildCsr({ tenantId, clientId, cuId: { vmId: "v" }, ...ec })).toThrow(
      expect.objectContaining({ code: "invalid_private_key" }),
    );
  });

  // Issue 13 item 8. Follows MSAL.NET src/.../ManagedIdentity/V2/Csr.cs, which builds the request with
  // .NET's CertificateRequest (RSASignaturePadding.Pss, SHA-256) and X500DistinguishedName: the
  // SHA-256 AlgorithmIdentifiers carry no parameters (RFC 5754 section 2), and a GUID CN is a
  // PrintableString. IMDS has only ever been exercised with those bytes.
  it("carries the RSASSA-PSS AlgorithmIdentifier byte for byte as .NET writes it (no NULL parameters)", () => {
    const sha256 = "300b0609608648016503040201"; // SEQUENCE { OID 2.16.840.1.101.3.4.2.1 }, no NULL
    const expected =
      "303d" + // AlgorithmIdentifier
      "06092a864886f70d01010a" + // id-RSASSA-PSS
      "3030" + // RSASSA-PSS-params
      `a00d${sha256}` + // [0] hashAlgorithm
      `a11a301806092a864886f70d010108${sha256}` + // [1] maskGenAlgorithm: MGF1 with SHA-256
      "a203020120"; // [2] saltLength 32; trailerField left out (default)
    const algorithm = der.subarray(der.length - 256 - 5 - expected.length / 2, der.length - 256 - 5);
    expect(algorithm.toString("hex")).toBe(expected);
    // Nowhere in the request is a SHA-256 OID followed by a NULL.
    expect(der.toString("hex")).not.toContain("06096086480165030402010500");
    // The signature BIT STRING follows: 03 82 01 01 00 then 256 bytes.
    expect(der.subarray(der.length - 261, der.length - 256).toString("hex")).toBe("0382010100");
  });

  it("encodes a GUID CN as PrintableString, and a CN outside that alphabet as UTF8String", () => {
    const printable = Buffer.concat([
      Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03, 0x13, clientId.length]),
      Buffer.from(clientId, "ascii"),
    ]);
    expect(der.includes(printable)).toBe(true);
    const odd = "client_id@example"; // '_' and '@' are not PrintableString characters
    const other = buildCsr({ tenantId, clientId: odd, cuId: { vmId: "v" }, privateKey, publicKey });
    const utf8 = Buffer.concat([
      Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, odd.length]),
      Buffer.from(odd),
    ]);
    expect(other.includes(utf8)).toBe(true);
    expect(opensslVerifies(other)).toBe(true);
    expect(opensslReq(other, ["-text", "-noout"]).output).toContain(`CN = ${odd}`);
  });
});
