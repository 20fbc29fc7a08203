// decodeResponseBody: the one content-encoding decoder every certbound transport uses (issue 12, item 21).
import { brotliCompressSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeResponseBody } from "../../src/transport-kit/index";

const limits = { maxBytes: 1024, endpoint: "https://x.test/token" };

describe("decodeResponseBody", () => {
  it("leaves identity and absent encodings alone, headers included", async () => {
    const headers = { "content-length": "2" };
    expect(await decodeResponseBody(Buffer.from("ok"), headers, limits)).toEqual({ body: "ok", headers });
    expect(
      (await decodeResponseBody(Buffer.from("ok"), { "content-encoding": "identity" }, limits)).body,
    ).toBe("ok");
  });

  it("undoes stacked codings from the last applied", async () => {
    const raw = brotliCompressSync(gzipSync(Buffer.from("stacked")));
    const out = await decodeResponseBody(
      raw,
      { "content-encoding": "gzip, br", "content-length": "9" },
      limits,
    );
    expect(out).toEqual({ body: "stacked", headers: {} });
  });

  it("stops inflating at maxBytes: response_too_large", async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024));
    await expect(decodeResponseBody(bomb, { "content-encoding": "gzip" }, limits)).rejects.toMatchObject({
      code: "response_too_large",
    });
  });

  it("an unknown or corrupt encoding is network_error", async () => {
    await expect(
      decodeResponseBody(Buffer.from("x"), { "content-encoding": "zstd" }, limits),
    ).rejects.toMatchObject({
      code: "network_error",
    });
    await expect(
      decodeResponseBody(Buffer.from("not gzip"), { "content-encoding": "gzip" }, limits),
    ).rejects.toMatchObject({ code: "network_error" });
  });

  it("an empty body with an encoding (a 204, a HEAD) stays empty", async () => {
    expect((await decodeResponseBody(Buffer.alloc(0), { "content-encoding": "gzip" }, limits)).body).toBe("");
  });
});
