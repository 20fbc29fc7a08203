// The sealed-value format read by position (entry-cipher.ts `open`): every value it wrote opens
// again, and anything else (malformed, planted, tampered, moved, another key) is a miss, never
// a value or an exception. No Redis here: these are the bytes a Redis could hand back.
import { describe, expect, it } from "vitest";
import { createEntryCipher } from "../src/entry-cipher";

const k1 = { id: "k1", key: Buffer.alloc(32, 1) };
const k2 = { id: "k2", key: Buffer.alloc(32, 2) };
const cipher = createEntryCipher({ keys: [k1] });
const name = cipher.name("cache-key");

describe("open", () => {
  it("opens what seal wrote, for empty, short, multi-byte and token-sized values", () => {
    const values = [
      "",
      ".",
      "a.b.c",
      "é😀",
      ...Array.from({ length: 40 }, (_, n) => "x".repeat(n)),
      `1767225600000.${"t".repeat(4096)}`,
    ];
    for (const value of values) expect(cipher.open(name, cipher.seal(name, value))).toBe(value);
  });

  it("a value written with an older key opens while that key is listed after the new one", () => {
    const old = createEntryCipher({ keys: [k2], nameKey: Buffer.alloc(32, 9) });
    const rotated = createEntryCipher({ keys: [k1, k2], nameKey: Buffer.alloc(32, 9) });
    expect(rotated.open(name, old.seal(name, "v"))).toBe("v");
    expect(createEntryCipher({ keys: [k1] }).open(name, old.seal(name, "v"))).toBeUndefined();
  });

  it("is a miss for every malformed, planted, tampered or moved value", () => {
    const sealed = cipher.seal(name, "token");
    const [, id, iv, body] = sealed.split(".") as [string, string, string, string];
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === "A" ? "B" : "A") + s.slice(at + 1);
    const misses: Record<string, string> = {
      empty: "",
      "no version": sealed.slice(4),
      "plain marker": "cbp.token",
      "version only": "cb1.",
      "no iv or body": `cb1.${id}`,
      "no body": `cb1.${id}.${iv}`,
      "empty body": `cb1.${id}.${iv}.`,
      "a fifth field": `${sealed}.AAAA`,
      "unknown key id": `cb1.k9.${iv}.${body}`,
      "empty key id": `cb1..${iv}.${body}`,
      "short iv": `cb1.${id}.${iv.slice(4)}.${body}`,
      "long iv": `cb1.${id}.${iv}AAAA.${body}`,
      "body shorter than a tag": `cb1.${id}.${iv}.${body.slice(0, 20)}`,
      "tag cut short": `cb1.${id}.${iv}.${body.slice(0, -4)}`,
      "flipped ciphertext": `cb1.${id}.${iv}.${flip(body, 0)}`,
      "flipped tag": `cb1.${id}.${iv}.${flip(body, body.length - 2)}`,
      "flipped iv": `cb1.${id}.${flip(iv, 1)}.${body}`,
    };
    for (const [what, raw] of Object.entries(misses))
      expect([what, cipher.open(name, raw)]).toEqual([what, undefined]);
    // Moved: the name is the associated data, so the same bytes under another name do not open.
    expect(cipher.open(cipher.name("other-key"), sealed)).toBeUndefined();
  });
});
