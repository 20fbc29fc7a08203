// A small reader for the DER (and the bits of BER that PKCS#12 writers use: indefinite lengths,
// constructed OCTET STRINGs) that a PFX is made of. Every problem becomes an `invalid_certificate`
// CertboundError; nothing here throws anything else, loops without consuming input, or recurses
// without bound.
import { invalidPfx } from "./errors";

/** One element: its tag and where its bytes are. All `Buffer`s are views into the input. */
export interface Der {
  /** 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly tagClass: number;
  readonly constructed: boolean;
  /** The tag number (low-tag-number form only: PKCS#12 uses no other). */
  readonly tag: number;
  /** The content octets; for an indefinite length, everything between the header and the end-of-contents. */
  readonly content: Buffer;
  /** The whole element, header included. */
  readonly encoded: Buffer;
}

export const UNIVERSAL = 0;
export const CONTEXT = 2;
export const TAG = { integer: 2, octetString: 4, null: 5, oid: 6, sequence: 16, set: 17 } as const;

// Deeper than anything PKCS#12 needs (a PFX nests about 12 levels), shallow enough for the stack.
const MAX_DEPTH = 40;
// Content lengths need at most 4 length octets: inputs are capped far below 4 GiB.
const MAX_LENGTH_OCTETS = 4;
const MAX_OID_BYTES = 64;
const MAX_CHUNK_DEPTH = 8;

/** Parses one element that must span all of `bytes`. */
export function parseDer(bytes: Buffer, what: string): Der {
  const [node, end] = readElement(bytes, 0, bytes.length, 0, what);
  if (end !== bytes.length) throw invalidPfx(`${what} has trailing bytes`);
  return node;
}

function readElement(buf: Buffer, start: number, limit: number, depth: number, what: string): [Der, number] {
  if (depth > MAX_DEPTH) throw invalidPfx(`${what} is nested too deeply`);
  let pos = start;
  if (limit - pos < 2) throw invalidPfx(`${what} is truncated`);
  const id = buf[pos++] as number;
  const tag = id & 0x1f;
  if (tag === 0x1f) throw invalidPfx(`${what} has a tag PKCS#12 does not use`);
  const tagClass = id >> 6;
  const constructed = (id & 0x20) !== 0;
  const first = buf[pos++] as number;
  if (first === 0x80) {
    // Indefinite length (BER): children up to an end-of-contents marker (two zero bytes).
    if (!constructed) throw invalidPfx(`${what} has an indefinite length on a primitive value`);
    const contentStart = pos;
    for (;;) {
      if (limit - pos < 2) throw invalidPfx(`${what} is truncated (no end-of-contents)`);
      if (buf[pos] === 0 && buf[pos + 1] === 0) {
        const content = buf.subarray(contentStart, pos);
        return [{ tagClass, constructed, tag, content, encoded: buf.subarray(start, pos + 2) }, pos + 2];
      }
      pos = readElement(buf, pos, limit, depth + 1, what)[1];
    }
  }
  let length = first;
  if (first > 0x80) {
    const octets = first & 0x7f;
    if (octets > MAX_LENGTH_OCTETS) throw invalidPfx(`${what} has an impossible length`);
    if (limit - pos < octets) throw invalidPfx(`${what} is truncated`);
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (buf[pos++] as number);
  }
  if (length > limit - pos) throw invalidPfx(`${what} is truncated`);
  const end = pos + length;
  return [
    { tagClass, constructed, tag, content: buf.subarray(pos, end), encoded: buf.subarray(start, end) },
    end,
  ];
}

/** The elements inside a constructed element. */
export function childrenOf(node: Der, what: string): Der[] {
  if (!node.constructed) throw invalidPfx(`${what} is not a constructed value`);
  const out: Der[] = [];
  const { content } = node;
  // Every element consumes at least two bytes, so this ends.
  for (let pos = 0; pos < content.length; ) {
    const [child, next] = readElement(content, pos, content.length, 0, what);
    out.push(child);
    pos = next;
  }
  return out;
}

function isUniversal(node: Der, tag: number): boolean {
  return node.tagClass === UNIVERSAL && node.tag === tag;
}

/** A SEQUENCE's elements; at least `min` of them. */
export function sequenceOf(node: Der | undefined, what: string, min = 0): Der[] {
  if (!node || !isUniversal(node, TAG.sequence)) throw invalidPfx(`${what} is not a SEQUENCE`);
  const items = childrenOf(node, what);
  if (items.length < min) throw invalidPfx(`${what} is missing fields`);
  return items;
}

/** The single element inside a `[n] EXPLICIT` field. */
export function explicitField(node: Der | undefined, n: number, what: string): Der {
  if (!node || node.tagClass !== CONTEXT || node.tag !== n) throw invalidPfx(`${what} is not a [${n}] field`);
  const [inner, ...rest] = childrenOf(node, what);
  if (!inner || rest.length > 0) throw invalidPfx(`${what} must hold exactly one value`);
  return inner;
}

/** An OBJECT IDENTIFIER in dotted form. */
export function oidOf(node: Der | undefined, what: string): string {
  if (!node || !isUniversal(node, TAG.oid) || node.constructed) {
    throw invalidPfx(`${what} is not an OBJECT IDENTIFIER`);
  }
  const bytes = node.content;
  if (bytes.length === 0 || bytes.length > MAX_OID_BYTES) throw invalidPfx(`${what} has a bad length`);
  const arcs: number[] = [];
  let value = 0;
  let fresh = true;
  for (const byte of bytes) {
    // A leading 0x80 would be a non-minimal encoding.
    if (fresh && byte === 0x80) throw invalidPfx(`${what} is not minimally encoded`);
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw invalidPfx(`${what} has an arc that is too large`);
    fresh = (byte & 0x80) === 0;
    if (fresh) {
      if (arcs.length === 0)
        arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  if (!fresh) throw invalidPfx(`${what} ends in the middle of an arc`);
  return arcs.join(".");
}

/** A non-negative INTEGER that fits in a JavaScript number (versions, iteration counts, key lengths). */
export function smallIntegerOf(node: Der | undefined, what: string): number {
  if (!node || !isUniversal(node, TAG.integer) || node.constructed) {
    throw invalidPfx(`${what} is not an INTEGER`);
  }
  const bytes = node.content;
  if (bytes.length === 0) throw invalidPfx(`${what} is empty`);
  if ((bytes[0] as number) & 0x80) throw invalidPfx(`${what} is negative`);
  if (bytes.length > 6) throw invalidPfx(`${what} is too large`);
  let value = 0;
  for (const byte of bytes) value = value * 256 + byte;
  return value;
}

/**
 * An OCTET STRING's bytes, joined when BER splits it into constructed chunks. `implicitTag`: the
 * context tag of an `[n] IMPLICIT OCTET STRING` field, accepted in place of the universal tag.
 */
export function octetsOf(node: Der | undefined, what: string, implicitTag?: number, depth = 0): Buffer {
  if (!node) throw invalidPfx(`${what} is missing`);
  if (depth > MAX_CHUNK_DEPTH) throw invalidPfx(`${what} is nested too deeply`);
  const tagged =
    isUniversal(node, TAG.octetString) ||
    (implicitTag !== undefined && node.tagClass === CONTEXT && node.tag === implicitTag);
  if (!tagged) throw invalidPfx(`${what} is not an OCTET STRING`);
  if (!node.constructed) return node.content;
  // Chunks are themselves OCTET STRINGs (in practice one level of them).
  return Buffer.concat(childrenOf(node, what).map((chunk) => octetsOf(chunk, what, undefined, depth + 1)));
}

/** An AlgorithmIdentifier: its OID and its parameters, if any. */
export function algorithmOf(node: Der | undefined, what: string): { oid: string; params: Der | undefined } {
  const [id, params] = sequenceOf(node, what, 1);
  return { oid: oidOf(id, `${what}'s algorithm`), params };
}
