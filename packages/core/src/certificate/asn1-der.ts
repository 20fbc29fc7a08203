// A minimal DER writer: just what building X.509 certificates and PKCS#10 requests needs.
// Node can sign and verify but not build certificates; this keeps core free of dependencies.

/** One encoded DER element. */
export type Der = Buffer;

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Tag-length-value with a raw tag byte. */
export function tlv(tag: number, content: Uint8Array): Der {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

export const sequence = (...items: Der[]): Der => tlv(0x30, Buffer.concat(items));
export const set = (...items: Der[]): Der => tlv(0x31, Buffer.concat(items));
export const nullValue = (): Der => Buffer.from([0x05, 0x00]);
export const utf8String = (text: string): Der => tlv(0x0c, Buffer.from(text, "utf8"));
export const ia5String = (text: string): Der => tlv(0x16, Buffer.from(text, "ascii"));
export const octetString = (bytes: Uint8Array): Der => tlv(0x04, bytes);
export const bitString = (bytes: Uint8Array): Der => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
export const boolean = (value: boolean): Der => Buffer.from([0x01, 0x01, value ? 0xff : 0x00]);
/** `[n] EXPLICIT` (constructed context-specific). */
export const explicit = (n: number, inner: Der): Der => tlv(0xa0 | n, inner);
/** `[n] IMPLICIT` primitive context-specific, e.g. a SAN dNSName is `implicit(2, ...)`. */
export const implicit = (n: number, bytes: Uint8Array): Der => tlv(0x80 | n, bytes);

/** A non-negative INTEGER from big-endian bytes or a number. */
export function integer(value: number | Uint8Array): Der {
  let bytes: Buffer;
  if (typeof value === "number") {
    const out: number[] = [];
    for (let v = value; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
    bytes = Buffer.from(out.length ? out : [0]);
  } else {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    bytes = Buffer.from(value.subarray(start));
  }
  if ((bytes[0] as number) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

export function oid(dotted: string): Der {
  const parts = dotted.split(".").map(Number);
  const out: number[] = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280 section 4.1.2.5). */
export function time(date: Date): Der {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, "ascii"))
    : tlv(0x18, Buffer.from(`${iso}Z`, "ascii"));
}
