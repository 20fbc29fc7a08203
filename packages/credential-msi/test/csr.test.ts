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
});
