// Misspelt options: the checker every package uses to refuse unknown keys with a suggestion.
import { isCertboundError, MtlsPopTokenAcquirer, ResourceCaller } from "@certbound/core";
import { assertKnownKeys, closestKnownKey, unknownOptionError } from "@certbound/core/credential-kit";
import { describe, expect, it } from "vitest";

const REQUEST = ["scopes", "mtlsProofOfPossession", "forceRefresh", "claims", "correlationId", "signal"];
const CERTIFICATE = [
  "certificatePem",
  "privateKeyPem",
  "privateKey",
  "passphrase",
  "pfx",
  "maxKdfIterations",
];

describe("closestKnownKey", () => {
  it.each([
    ["mtlsProofOfPossesion", REQUEST, "mtlsProofOfPossession"], // a letter missing
    ["mtlsProofOfPosession", REQUEST, "mtlsProofOfPossession"],
    ["mtlsProofOfPossessoin", REQUEST, "mtlsProofOfPossession"], // swapped neighbours
    ["mtlsPop", REQUEST, undefined],
    ["scope", REQUEST, "scopes"],
    ["forcerefresh", REQUEST, "forceRefresh"], // case
    ["force_refresh", REQUEST, "forceRefresh"], // snake case
    ["correlation-id", REQUEST, "correlationId"],
    ["keyPem", CERTIFICATE, "privateKeyPem"], // what a test CA hands out
    ["privateKeyPEM", CERTIFICATE, "privateKeyPem"],
    ["certPem", CERTIFICATE, undefined],
    ["passphase", CERTIFICATE, "passphrase"],
    ["zzz", REQUEST, undefined],
    ["", REQUEST, undefined],
  ] as const)("%j -> %j", (name, known, expected) => {
    expect(closestKnownKey(name, known)).toBe(expected);
  });
});

describe("unknownOptionError", () => {
  it("names the key and the closest known one", () => {
    const error = unknownOptionError(
      "@x/y",
      "mtlsProofOfPossesion",
      REQUEST,
      "the acquireTokenForClient request",
    );
    expect(error).toMatchObject({ name: "CertboundError", code: "invalid_options" });
    expect(error.message).toBe(
      "@x/y: Unknown option `mtlsProofOfPossesion` in the acquireTokenForClient request; did you mean `mtlsProofOfPossession`?",
    );
  });

  it("lists the known keys when none is close", () => {
    const error = unknownOptionError("@x/y", "banana", ["ca", "proxy"], "createUndiciTransport options");
    expect(error.message).toBe(
      "@x/y: Unknown option `banana` in createUndiciTransport options; known options: `ca`, `proxy`.",
    );
  });

  // From the attacker's side: a key is text the caller (or a config file) controls.
  it("escapes control characters and backticks in the key: no forged log lines", () => {
    const error = unknownOptionError("@x/y", "a\r\nlevel=error msg=`pwned`\u2028", ["ca"], "options");
    expect(error.message).not.toMatch(/[\r\n\u2028]/);
    expect(error.message).toContain("a\\u000d\\u000alevel=error msg='pwned'\\u2028");
  });

  it("a huge key is cut in the message and not compared (no quadratic work)", () => {
    const huge = "k".repeat(1_000_000);
    const started = performance.now();
    const error = unknownOptionError("@x/y", huge, REQUEST, "options");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error.message.length).toBeLessThan(400);
    expect(error.message).toContain("known options:");
  });
});

describe("assertKnownKeys", () => {
  it("passes known keys, refuses the first unknown one", () => {
    expect(() => assertKnownKeys("@x/y", { ca: "", proxy: true }, ["ca", "proxy"], "o")).not.toThrow();
    let caught: unknown;
    try {
      assertKnownKeys("@x/y", { ca: "", prxy: true }, ["ca", "proxy"], "o");
    } catch (error) {
      caught = error;
    }
    expect(isCertboundError(caught) && caught.code).toBe("invalid_options");
    expect((caught as Error).message).toMatch(/`prxy` in o; did you mean `proxy`\?/);
  });
});

describe("core's own option bags", () => {
  const transport = { send: async () => ({ status: 200, headers: {}, body: "" }) };

  it("ResourceCaller options and call init refuse misspelt keys, before any I/O", async () => {
    expect(() => new ResourceCaller({ transport, timeoutMS: 5 } as never)).toThrow(
      /Unknown option `timeoutMS` in ResourceCaller options; did you mean `timeoutMs`\?/,
    );
    let sent = 0;
    const caller = new ResourceCaller({
      transport: {
        send: async () => {
          sent++;
          return { status: 200, headers: {}, body: "" };
        },
      },
    });
    const token = {
      accessToken: "t",
      tokenType: "Bearer" as const,
      expiresOn: new Date(Date.now() + 3600_000),
      scopes: ["https://r/.default"],
      metadata: { tokenSource: "cache" as const, correlationId: "c", durationMs: 0 },
    };
    await expect(caller.call(token, "https://r/", { header: { a: "b" } } as never)).rejects.toMatchObject({
      code: "invalid_options",
      message: expect.stringMatching(
        /Unknown option `header` in the ResourceCaller.call init; did you mean `headers`\?/,
      ),
    });
    expect(sent).toBe(0);
    await caller.call(token, "https://r/", { method: "POST", headers: {}, body: "x" });
    expect(sent).toBe(1);
  });

  it("MtlsPopTokenAcquirer.acquireToken options refuse misspelt keys", async () => {
    const acquirer = new MtlsPopTokenAcquirer({
      getToken: async () => {
        throw new Error("not reached");
      },
    });
    await expect(
      acquirer.acquireToken("https://r/.default", { singal: undefined } as never),
    ).rejects.toMatchObject({
      code: "invalid_options",
      message: expect.stringMatching(/did you mean `signal`\?/),
    });
  });
});
