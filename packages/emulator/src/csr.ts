import { constants, createPublicKey, type KeyObject, verify } from "node:crypto";
import forge from "node-forge";

/** The identity a CSR must name, and the `cuId` it must carry. */
export interface CsrExpectation {
  tenantId: string;
  clientId: string;
  /** Compact JSON of the machine's cuId, e.g. `{"vmId":"..."}`. */
  cuIdJson: string;
}

/** A verified CSR's public key, or why the CSR was refused. */
export type CsrCheck = { ok: true; publicKey: KeyObject } | { ok: false; reason: string };

const OID = {
  domainComponent: "0.9.2342.19200300.100.1.25",
  commonName: "2.5.4.3",
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsassaPss: "1.2.840.113549.1.1.10",
  mgf1: "1.2.840.113549.1.1.8",
  sha256: "2.16.840.1.101.3.4.2.1",
  cuId: "1.3.6.1.4.1.311.90.2.10",
} as const;

const { Class, Type } = forge.asn1;
type Node = forge.asn1.Asn1;

class CsrError extends Error {}

function fail(reason: string): never {
  throw new CsrError(reason);
}

// node-forge's types know only the boolean form of the second argument; the options form is what
// keeps BIT STRING contents raw (we re-encode and compare, so nothing may be reinterpreted).
const fromDer = forge.asn1.fromDer as unknown as (
  bytes: string,
  options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean },
) => Node;

/**
 * Verifies an IMDS v2 CSR (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s3-4-csr): PKCS#10 version 0, subject exactly DC=tenantId
 * (IA5String) then CN=clientId, an RSA key of at least 2048 bits, exactly one attribute
 * `1.3.6.1.4.1.311.90.2.10` holding the UTF8String compact JSON of cuId, and an RSASSA-PSS
 * (SHA-256, MGF1-SHA-256, salt 32, trailer omitted) signature that verifies with the CSR's key.
 * The SHA-256 AlgorithmIdentifiers may carry no parameters (.NET's form, RFC 5754) or a NULL
 * (OpenSSL's); the CN may be a PrintableString (.NET's form for a GUID) or a UTF8String.
 */
export function checkCsr(der: Buffer, expected: CsrExpectation): CsrCheck {
  try {
    return { ok: true, publicKey: check(der, expected) };
  } catch (error) {
    if (error instanceof CsrError) return { ok: false, reason: error.message };
    return { ok: false, reason: "The CSR is not valid DER-encoded PKCS#10." };
  }
}

function check(der: Buffer, expected: CsrExpectation): KeyObject {
  if (der.length === 0) fail("The CSR is empty.");
  let root: Node;
  try {
    root = fromDer(der.toString("binary"), { strict: true, parseAllBytes: true, decodeBitStrings: false });
  } catch {
    return fail("The CSR is not valid DER-encoded PKCS#10.");
  }
  if (forge.asn1.toDer(root).getBytes() !== der.toString("binary")) {
    fail("The CSR is not in canonical DER (re-encoding changes it).");
  }
  const [info, algorithm, signature] = children(root, Type.SEQUENCE, 3, "CertificationRequest");
  const [version, subject, spki, attributes] = children(info, Type.SEQUENCE, 4, "CertificationRequestInfo");
  if (!isUniversal(version, Type.INTEGER) || version.value !== "\x00")
    fail("The CSR version must be 0 (v1).");

  checkSubject(subject, expected);
  const publicKey = readPublicKey(spki);
  checkAttributes(attributes, expected.cuIdJson);
  checkAlgorithm(algorithm);

  if (
    !isUniversal(signature, Type.BITSTRING) ||
    typeof signature.value !== "string" ||
    signature.value[0] !== "\x00"
  ) {
    fail("The CSR signature is not a BIT STRING.");
  }
  const signatureBytes = Buffer.from((signature.value as string).slice(1), "binary");
  const signed = Buffer.from(forge.asn1.toDer(info).getBytes(), "binary");
  const valid = verify(
    "sha256",
    signed,
    { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
    signatureBytes,
  );
  if (!valid)
    fail("The CSR signature does not verify with the CSR's public key (RSASSA-PSS, SHA-256, salt 32).");
  return publicKey;
}

function checkSubject(subject: Node, expected: CsrExpectation): void {
  const rdns = list(subject, Type.SEQUENCE, "subject");
  const attribute = (rdn: Node | undefined, position: string): { type: string; node: Node } => {
    if (!rdn) return fail(`The CSR subject must be DC=${expected.tenantId} then CN=${expected.clientId}.`);
    const [atv] = children(rdn, Type.SET, 1, `the ${position} subject RDN`);
    const [type, value] = children(atv, Type.SEQUENCE, 2, "a subject attribute");
    return { type: readOid(type), node: value };
  };
  if (rdns.length !== 2)
    fail(`The CSR subject must be exactly DC=${expected.tenantId} then CN=${expected.clientId}.`);
  const dc = attribute(rdns[0], "first");
  if (dc.type !== OID.domainComponent || !isUniversal(dc.node, Type.IA5STRING)) {
    fail("The first CSR subject attribute must be DC (domainComponent, IA5String) holding the tenant id.");
  }
  if (dc.node.value !== expected.tenantId) {
    fail(
      `The CSR subject DC is '${String(dc.node.value)}'; it must be the tenant id '${expected.tenantId}'.`,
    );
  }
  const cn = attribute(rdns[1], "second");
  if (
    cn.type !== OID.commonName ||
    !(isUniversal(cn.node, Type.UTF8) || isUniversal(cn.node, Type.PRINTABLESTRING))
  ) {
    fail("The second CSR subject attribute must be CN (commonName) holding the client id.");
  }
  const cnValue = Buffer.from(cn.node.value as string, "binary").toString("utf8");
  if (cnValue !== expected.clientId) {
    fail(
      `The CSR subject CN is '${cnValue}'; it must be the client id '${expected.clientId}' of the addressed identity.`,
    );
  }
}

function readPublicKey(spki: Node): KeyObject {
  const [algorithm] = children(spki, Type.SEQUENCE, 2, "subjectPublicKeyInfo");
  const [keyOid] = list(algorithm, Type.SEQUENCE, "the public key algorithm");
  if (!keyOid || readOid(keyOid) !== OID.rsaEncryption)
    fail("The CSR key must be an RSA key (rsaEncryption).");
  let key: KeyObject;
  try {
    key = createPublicKey({
      key: Buffer.from(forge.asn1.toDer(spki).getBytes(), "binary"),
      format: "der",
      type: "spki",
    });
  } catch {
    return fail("The CSR public key does not parse.");
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) fail(`The CSR key has ${bits} bits; IMDS needs an RSA key of at least 2048 bits.`);
  return key;
}

function checkAttributes(attributes: Node, cuIdJson: string): void {
  if (attributes.tagClass !== Class.CONTEXT_SPECIFIC || attributes.type !== 0 || !attributes.constructed) {
    fail("The CSR attributes ([0]) are missing.");
  }
  const items = attributes.value as Node[];
  const only = items[0];
  if (items.length !== 1 || !only) {
    fail(`The CSR must carry exactly one attribute, ${OID.cuId} (cuId); it carries ${items.length}.`);
  }
  const [type, values] = children(only, Type.SEQUENCE, 2, "the CSR attribute");
  if (readOid(type) !== OID.cuId) fail(`The CSR attribute must be ${OID.cuId} (cuId), not ${readOid(type)}.`);
  const [value] = children(values, Type.SET, 1, "the cuId attribute values");
  if (!isUniversal(value, Type.UTF8)) fail("The cuId attribute value must be a UTF8String.");
  const text = Buffer.from(value.value as string, "binary").toString("utf8");
  if (text !== cuIdJson) {
    fail(`The cuId attribute holds '${text.slice(0, 200)}'; it must be the compact JSON '${cuIdJson}'.`);
  }
}

function checkAlgorithm(algorithm: Node): void {
  const [id, params] = list(algorithm, Type.SEQUENCE, "the signature algorithm");
  const oid = id ? readOid(id) : "";
  if (oid !== OID.rsassaPss) {
    fail(`The CSR must be signed with RSASSA-PSS (${OID.rsassaPss}), not ${oid || "an unknown algorithm"}.`);
  }
  if (!params) fail("The RSASSA-PSS parameters are missing.");
  const fields = list(params as Node, Type.SEQUENCE, "the RSASSA-PSS parameters");
  const field = (n: number) => fields.find((f) => f.tagClass === Class.CONTEXT_SPECIFIC && f.type === n);
  const hash = field(0);
  const mgf = field(1);
  const salt = field(2);
  if (field(3)) fail("The RSASSA-PSS trailerField must be omitted.");
  if (!hash || hashOid(hash) !== OID.sha256) fail("The RSASSA-PSS hash must be SHA-256.");
  if (!mgf) fail("The MGF must be MGF1 with SHA-256.");
  const [mgfAlgorithm] = children(mgf, undefined, 1, "maskGenAlgorithm");
  const [mgfId, mgfHash] = children(mgfAlgorithm, Type.SEQUENCE, 2, "maskGenAlgorithm");
  if (readOid(mgfId) !== OID.mgf1 || !isUniversal(mgfHash, Type.SEQUENCE))
    fail("The MGF must be MGF1 with SHA-256.");
  if (sha256Identifier(mgfHash, "MGF1 hash") !== OID.sha256) fail("The MGF must be MGF1 with SHA-256.");
  if (!salt) fail("The RSASSA-PSS salt length must be 32.");
  const [saltValue] = children(salt, undefined, 1, "saltLength");
  if (!isUniversal(saltValue, Type.INTEGER) || saltValue.value !== "\x20") {
    fail("The RSASSA-PSS salt length must be 32.");
  }
}

function hashOid(field: Node): string {
  const [algorithm] = children(field, undefined, 1, "hashAlgorithm");
  return sha256Identifier(algorithm, "hashAlgorithm");
}

// A SHA-256 AlgorithmIdentifier has absent parameters (RFC 5754 section 2; what .NET writes) or,
// as OpenSSL writes it, a NULL; anything else is malformed.
function sha256Identifier(algorithm: Node, what: string): string {
  const [id, parameters, ...rest] = list(algorithm, Type.SEQUENCE, what);
  if (rest.length > 0 || (parameters && !(isUniversal(parameters, Type.NULL) && parameters.value === ""))) {
    fail(`The CSR's ${what} parameters must be absent (RFC 5754) or NULL.`);
  }
  return id ? readOid(id) : "";
}

type Tuple<N extends number> = N extends 1
  ? [Node]
  : N extends 2
    ? [Node, Node]
    : N extends 3
      ? [Node, Node, Node]
      : [Node, Node, Node, Node];

/** The elements of a constructed node, which must number exactly `count`. */
function children<N extends 1 | 2 | 3 | 4>(
  node: Node,
  type: forge.asn1.Type | undefined,
  count: N,
  what: string,
): Tuple<N> {
  const items = list(node, type, what);
  if (items.length !== count) {
    return fail(`The CSR is malformed: ${what} has ${items.length} elements, expected ${count}.`);
  }
  return items as Tuple<N>;
}

/** The elements of a constructed node (of universal `type` when given). */
function list(node: Node, type: forge.asn1.Type | undefined, what: string): Node[] {
  if (!Array.isArray(node.value) || (type !== undefined && !isUniversal(node, type))) {
    return fail(`The CSR is malformed: ${what} has the wrong structure.`);
  }
  return node.value;
}

function isUniversal(node: Node, type: forge.asn1.Type): boolean {
  return node.tagClass === Class.UNIVERSAL && node.type === type;
}

function readOid(node: Node): string {
  if (!isUniversal(node, Type.OID) || typeof node.value !== "string")
    fail("The CSR is malformed: expected an OID.");
  return forge.asn1.derToOid(node.value as string);
}
