// RC2 decryption in CBC mode (RFC 2268). Old PFX files, and `openssl pkcs12 -legacy` ones, encrypt
// their certificates with pbeWithSHAAnd40BitRC2-CBC, and OpenSSL 3 (so node:crypto) leaves RC2 to
// its legacy provider, which Node does not load. Only decryption is needed.

// PITABLE of RFC 2268 section 2: a permutation of 0..255 derived from the digits of pi.
const PITABLE = Buffer.from(
  "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2" +
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82" +
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626" +
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7" +
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec" +
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731" +
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9" +
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad",
  "hex",
);

const at = (bytes: Uint8Array, i: number): number => bytes[i] as number;

/** RFC 2268 section 2: 64 sixteen-bit round keys from a 1..128-byte key and 1..1024 effective bits. */
function expandKey(key: Uint8Array, effectiveBits: number): Uint16Array {
  const t = key.length;
  const t8 = Math.ceil(effectiveBits / 8);
  const tm = 0xff >> (8 * t8 - effectiveBits);
  const l = new Uint8Array(128);
  l.set(key);
  for (let i = t; i < 128; i++) l[i] = at(PITABLE, (at(l, i - 1) + at(l, i - t)) & 0xff);
  l[128 - t8] = at(PITABLE, at(l, 128 - t8) & tm);
  for (let i = 127 - t8; i >= 0; i--) l[i] = at(PITABLE, at(l, i + 1) ^ at(l, i + t8));
  const k = new Uint16Array(64);
  for (let i = 0; i < 64; i++) k[i] = at(l, 2 * i) | (at(l, 2 * i + 1) << 8);
  l.fill(0);
  return k;
}

const ror = (x: number, n: number): number => ((x >>> n) | (x << (16 - n))) & 0xffff;

/** Decrypts one 8-byte block from `input` at `offset` into `output` at the same offset (RFC 2268 section 4). */
function decryptBlock(k: Uint16Array, input: Uint8Array, output: Uint8Array, offset: number): void {
  let r0 = at(input, offset) | (at(input, offset + 1) << 8);
  let r1 = at(input, offset + 2) | (at(input, offset + 3) << 8);
  let r2 = at(input, offset + 4) | (at(input, offset + 5) << 8);
  let r3 = at(input, offset + 6) | (at(input, offset + 7) << 8);
  let j = 63;
  const key = (i: number): number => k[i] as number;
  const mixRounds = (count: number) => {
    for (let n = 0; n < count; n++) {
      r3 = (ror(r3, 5) - key(j--) - (r2 & r1) - (~r2 & r0)) & 0xffff;
      r2 = (ror(r2, 3) - key(j--) - (r1 & r0) - (~r1 & r3)) & 0xffff;
      r1 = (ror(r1, 2) - key(j--) - (r0 & r3) - (~r0 & r2)) & 0xffff;
      r0 = (ror(r0, 1) - key(j--) - (r3 & r2) - (~r3 & r1)) & 0xffff;
    }
  };
  const mashRound = () => {
    r3 = (r3 - key(r2 & 63)) & 0xffff;
    r2 = (r2 - key(r1 & 63)) & 0xffff;
    r1 = (r1 - key(r0 & 63)) & 0xffff;
    r0 = (r0 - key(r3 & 63)) & 0xffff;
  };
  mixRounds(5);
  mashRound();
  mixRounds(6);
  mashRound();
  mixRounds(5);
  const words = [r0, r1, r2, r3];
  for (let i = 0; i < 4; i++) {
    output[offset + 2 * i] = (words[i] as number) & 0xff;
    output[offset + 2 * i + 1] = (words[i] as number) >>> 8;
  }
}

/**
 * RC2-CBC decryption without removing the padding. `data` must be a whole number of 8-byte blocks,
 * `iv` 8 bytes, `key` 1..128 bytes, `effectiveBits` 1..1024.
 */
export function rc2CbcDecrypt(
  key: Uint8Array,
  effectiveBits: number,
  iv: Uint8Array,
  data: Uint8Array,
): Buffer {
  if (key.length < 1 || key.length > 128 || effectiveBits < 1 || effectiveBits > 1024) {
    throw new RangeError("RC2: key of 1..128 bytes and 1..1024 effective bits");
  }
  if (iv.length !== 8 || data.length % 8 !== 0) throw new RangeError("RC2: 8-byte IV and whole blocks");
  const k = expandKey(key, effectiveBits);
  const out = Buffer.alloc(data.length);
  for (let offset = 0; offset < data.length; offset += 8) {
    decryptBlock(k, data, out, offset);
    for (let i = 0; i < 8; i++) {
      const previous = offset === 0 ? at(iv, i) : at(data, offset - 8 + i);
      out[offset + i] = at(out, offset + i) ^ previous;
    }
  }
  k.fill(0);
  return out;
}
