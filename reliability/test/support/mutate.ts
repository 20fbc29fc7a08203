// Arbitraries that damage valid inputs the way disks, proxies and attackers do: flipped bytes,
// cut-off ends, inserted and deleted runs. Random garbage alone rarely gets past the first check;
// a damaged valid input reaches the deep parts of a parser.
import fc from "fast-check";

type Edit =
  | { kind: "flip"; at: number; xor: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; length: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
);

function apply(input: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let bytes = Buffer.from(input);
  for (const e of edits) {
    if (bytes.length === 0) break;
    const at = e.at % bytes.length;
    if (e.kind === "flip") {
      bytes[at] = (bytes[at] as number) ^ e.xor;
    } else if (e.kind === "truncate") {
      bytes = bytes.subarray(0, at);
    } else if (e.kind === "insert") {
      bytes = Buffer.concat([bytes.subarray(0, at), e.bytes, bytes.subarray(at)]);
    } else {
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + e.length)]);
    }
  }
  return bytes;
}

/** Bytes of one of `bases`, with 1 to 4 edits. */
export function mutatedBytes(bases: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.constantFrom(...bases), fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([base, edits]) => apply(base, edits));
}

/** Text of one of `bases`, with 1 to 4 edits (ASCII-preserving edits mostly; any bytes possible). */
export function mutatedText(bases: readonly string[]): fc.Arbitrary<string> {
  return mutatedBytes(bases.map((b) => Buffer.from(b, "utf8"))).map((b) => Buffer.from(b).toString("utf8"));
}
