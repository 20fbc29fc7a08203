import { describe, expect, it } from "vitest";
import { createCertificateAuthority } from "../../src/credential-kit/index";
import {
  caList,
  normalizePin,
  parsePinnedThumbprint,
  parseRequestTarget,
  poolScope,
  trustId,
} from "../../src/transport-kit/index";

const PKG = "@certbound/test-transport";
const SHA1 = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01";
const SHA256 = "a".repeat(64);

describe("caList and trustId", () => {
  it("turn one PEM, a list or nothing into a list, and a list into a short stable id", () => {
    expect(caList(undefined)).toEqual([]);
    expect(caList("a")).toEqual(["a"]);
    expect(caList(["a", "b"])).toEqual(["a", "b"]);
    expect(trustId([])).toBe("-");
    expect(trustId(["a", "b"])).toBe(trustId(["a", "b"]));
    expect(trustId(["a", "b"])).not.toBe(trustId(["b", "a"]));
    expect(trustId(["a"])).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe("poolScope", () => {
  const ca = createCertificateAuthority();
  const [a, b] = [ca.issue({ commonName: "A" }), ca.issue({ commonName: "B" })];
  const base = { transportCas: ["T"], identity: a, ca: undefined, pin: undefined };

  it("trusts the transport's CAs and then the request's", () => {
    expect(poolScope({ ...base, ca: "R" }).cas).toEqual(["T", "R"]);
    expect(poolScope({ ...base, ca: ["R1", "R2"] }).cas).toEqual(["T", "R1", "R2"]);
  });

  it("gives one key per identity, trust, pin and route, and the same key for the same scope", () => {
    const keys = [
      poolScope(base),
      poolScope({ ...base, identity: b }),
      poolScope({ ...base, identity: undefined }),
      poolScope({ ...base, ca: "R" }),
      poolScope({ ...base, pin: "ab".repeat(20) }),
      poolScope({ ...base, route: "http://proxy:3128/" }),
    ].map((scope) => scope.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(poolScope({ ...base }).key).toBe(keys[0]);
    expect(keys[0]).toContain(a.x5tS256);
  });

  // Each request asks again, usually with the inputs of the last one: the answer is remembered,
  // but never for inputs that can change in place.
  it("answers a repeated request at once, and works out again a CA list changed in place", () => {
    const transportCas = Object.freeze(["T"]);
    const first = poolScope({ ...base, transportCas });
    expect(poolScope({ ...base, transportCas })).toBe(first);
    const requestCas = ["R1"];
    const withList = poolScope({ ...base, transportCas, ca: requestCas });
    requestCas.push("R2");
    const changed = poolScope({ ...base, transportCas, ca: requestCas });
    expect(changed.cas).toEqual(["T", "R1", "R2"]);
    expect(changed.key).not.toBe(withList.key);
    const mutable = ["T"];
    const before = poolScope({ ...base, transportCas: mutable });
    mutable.push("T2");
    const after = poolScope({ ...base, transportCas: mutable });
    expect(after.cas).toEqual(["T", "T2"]);
    expect(after.key).not.toBe(before.key);
    // A forged identity is refused on every request, after a good one too.
    poolScope({ ...base, transportCas });
    expect(() => poolScope({ ...base, transportCas, identity: { ...a, x5tS256: b.x5tS256 } })).toThrow(
      expect.objectContaining({ code: "tls_handshake_failed" }),
    );
  });
});

describe("server pins", () => {
  it("normalise SHA-1 and SHA-256 thumbprints, colons, spaces and case ignored", () => {
    expect(normalizePin(SHA1)).toBe("abcdef0123456789abcdef0123456789abcdef01");
    expect(normalizePin(` ${SHA256.toUpperCase()} `)).toBe(SHA256);
    expect(normalizePin("abc")).toBeUndefined();
    expect(normalizePin("a".repeat(50))).toBeUndefined();
    expect(normalizePin("z".repeat(40))).toBeUndefined();
  });

  it("reject a malformed pin with tls_handshake_failed naming the expected form", () => {
    expect(parsePinnedThumbprint(undefined, "https://x.test/")).toBeUndefined();
    expect(parsePinnedThumbprint(SHA256, "https://x.test/")).toBe(SHA256);
    expect(() => parsePinnedThumbprint("abc", "https://x.test/")).toThrow(
      expect.objectContaining({
        code: "tls_handshake_failed",
        message: expect.stringMatching(/x\.test.*40 .*64/),
      }),
    );
  });
});

describe("parseRequestTarget", () => {
  it("gives the endpoint without the query string, the URL and the normalised pin", () => {
    const target = parseRequestTarget(
      { url: "https://api.example.test/token?client_id=secret", pinnedServerThumbprint: SHA1 },
      PKG,
    );
    expect(target.endpoint).toBe("https://api.example.test/token");
    expect(target.url.searchParams.get("client_id")).toBe("secret");
    expect(target.pin).toBe(normalizePin(SHA1));
    expect(parseRequestTarget({ url: "http://127.0.0.1:1/" }, PKG).pin).toBeUndefined();
  });

  it("rejects what is not an http(s) URL with network_error, naming the package but not the query", () => {
    expect(() => parseRequestTarget({ url: "not a url?secret=1" }, PKG)).toThrow(
      expect.objectContaining({ code: "network_error", message: `${PKG}: "not a url" is not a valid URL.` }),
    );
    expect(() => parseRequestTarget({ url: "ftp://files.example.test/" }, PKG)).toThrow(
      expect.objectContaining({ code: "network_error", message: expect.stringContaining("got ftp:") }),
    );
  });

  // Resource calls repeat one URL, so the parsed URL is reused; a caller that changed it gets a
  // fresh one, never the changed one.
  it("hands out the parsed URL again for the same string, but never one a caller changed", () => {
    const url = "https://api.example.test/r/1?x=1";
    const first = parseRequestTarget({ url }, PKG).url;
    expect(parseRequestTarget({ url }, PKG).url).toBe(first);
    first.pathname = "/elsewhere";
    const again = parseRequestTarget({ url }, PKG).url;
    expect(again).not.toBe(first);
    expect(again.pathname).toBe("/r/1");
    expect(parseRequestTarget({ url: "https://other.example.test/" }, PKG).url.host).toBe(
      "other.example.test",
    );
  });

  it("checks every header on every request, a long value seen before included only when it is that value", () => {
    const token = "t".repeat(1300);
    const headers = { authorization: `Bearer ${token}` };
    expect(() => parseRequestTarget({ url: "https://x.test/", headers }, PKG)).not.toThrow();
    expect(() => parseRequestTarget({ url: "https://x.test/", headers }, PKG)).not.toThrow();
    // The same length and prefix with a CR/LF: refused, though it follows an accepted long value.
    const forged = { authorization: `Bearer ${token.slice(0, 1200)}\r\nx-injected: 1${token.slice(1215)}` };
    expect(forged.authorization).toHaveLength(headers.authorization.length);
    expect(() => parseRequestTarget({ url: "https://x.test/", headers: forged }, PKG)).toThrow(
      expect.objectContaining({ code: "invalid_options", message: expect.stringContaining("CR/LF") }),
    );
    expect(() =>
      parseRequestTarget({ url: "https://x.test/", headers: { ...headers, "bad name": "v" } }, PKG),
    ).toThrow(expect.objectContaining({ code: "invalid_options" }));
    // Inherited keys are not headers (Object.keys never listed them either).
    const inherited = Object.create({ "x-proto": "a\r\nb" }) as Record<string, string>;
    expect(() => parseRequestTarget({ url: "https://x.test/", headers: inherited }, PKG)).not.toThrow();
  });

  it("rejects a malformed pin before anything else happens", () => {
    expect(() => parseRequestTarget({ url: "https://x.test/", pinnedServerThumbprint: "zz" }, PKG)).toThrow(
      expect.objectContaining({ code: "tls_handshake_failed" }),
    );
  });
});
