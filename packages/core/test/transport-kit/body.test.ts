import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { flattenHeaders, readCappedBody } from "../../src/transport-kit/index";

const endpoint = "https://api.example.test/x";
const bytes = (text: string) => Buffer.from(text, "utf8");

function stream(chunks: Buffer[]): Readable & { destroyedByReader: () => boolean } {
  const readable = Readable.from(chunks, { objectMode: false });
  return Object.assign(readable, { destroyedByReader: () => readable.destroyed });
}

describe("readCappedBody", () => {
  it("reads the whole body, keeping a character split across chunks intact", async () => {
    const euro = bytes("€");
    const body = stream([bytes("price: "), euro.subarray(0, 1), euro.subarray(1), bytes("5")]);
    await expect(readCappedBody(body, { maxBytes: 100, endpoint })).resolves.toBe("price: €5");
  });

  it("accepts a body of exactly maxBytes", async () => {
    await expect(readCappedBody(stream([bytes("12345")]), { maxBytes: 5, endpoint })).resolves.toBe("12345");
  });

  it("fails with response_too_large as soon as the body passes maxBytes, and destroys it", async () => {
    const body = stream([bytes("1234"), bytes("5678"), bytes("9")]);
    await expect(readCappedBody(body, { maxBytes: 5, endpoint })).rejects.toMatchObject({
      code: "response_too_large",
      message: expect.stringContaining(`${endpoint} is larger than maxResponseBytes (5 bytes)`),
    });
    expect(body.destroyedByReader()).toBe(true);
  });

  it("fails before reading when content-length already says too large", async () => {
    let read = false;
    const body = Object.assign(
      (async function* () {
        read = true;
        yield bytes("x");
      })(),
      { destroy: () => undefined },
    );
    await expect(readCappedBody(body, { maxBytes: 5, endpoint, contentLength: "6" })).rejects.toMatchObject({
      code: "response_too_large",
    });
    expect(read).toBe(false);
  });
});

describe("flattenHeaders", () => {
  it("lower-cases names, joins repeated headers and drops absent ones", () => {
    expect(
      flattenHeaders({
        "Content-Type": "text/plain",
        "set-cookie": ["a=1", "b=2"],
        "content-length": 12,
        "x-none": undefined,
        "x-null": null,
      }),
    ).toEqual({ "content-type": "text/plain", "set-cookie": "a=1, b=2", "content-length": "12" });
  });
});
