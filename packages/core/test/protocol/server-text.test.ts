// Server text that reaches an error (issue 12, items 13 and 14): cleaned, capped and redacted.
import { describe, expect, it } from "vitest";
import {
  parseErrorResponse,
  parseTokenResponse,
  REDACTED,
  redactSecrets,
  requestSecrets,
  SERVER_TEXT_LIMITS,
  sanitizeServerText,
  serverText,
} from "../../src/credential-kit/index";

describe("sanitizeServerText", () => {
  it("turns CR/LF, terminal escapes, C1 and bidi controls into single spaces", () => {
    expect(sanitizeServerText("a\r\nb\u001b[31mc\u009bd\u202ee\u2028f", 100)).toBe("a b [31mc d e f");
  });

  it("caps long text with a note of what was left out, without scanning it whole", () => {
    const out = sanitizeServerText("x".repeat(900 * 1024), 128) as string;
    expect(out.startsWith("x".repeat(128))).toBe(true);
    expect(out).toBe(`${"x".repeat(128)}... (${900 * 1024 - 128} more characters)`);
  });

  it("never splits a surrogate pair at the cap", () => {
    const out = sanitizeServerText(`${"a".repeat(9)}😀😀`, 10) as string;
    expect(out.startsWith(`${"a".repeat(9)}...`)).toBe(true);
  });

  it("gives undefined for non-strings and for text that is only control characters", () => {
    expect(sanitizeServerText(42, 10)).toBeUndefined();
    expect(sanitizeServerText("\r\n\u0000", 10)).toBeUndefined();
  });
});

describe("redactSecrets and requestSecrets", () => {
  const assertion = `eyJhbGciOiJSUzI1NiJ9.${"p".repeat(40)}.${"s".repeat(43)}`;

  it("finds the secrets a request carried: Authorization without its scheme, secret headers, assertion fields", () => {
    const secrets = requestSecrets({
      headers: {
        authorization: "Bearer tok-123456789012",
        "x-identity-header": "hdr-123456789012",
        accept: "x",
      },
      body: `client_id=a&client_assertion=${assertion}&scope=s`,
    });
    expect(secrets).toEqual(
      expect.arrayContaining(["Bearer tok-123456789012", "tok-123456789012", "hdr-123456789012", assertion]),
    );
    expect(secrets).not.toContain("x");
  });

  it("replaces the whole secret, its URL-encoded form and each long dot-separated part", () => {
    const text = `a ${assertion} b ${encodeURIComponent(`${assertion}+/`)} c ${"s".repeat(43)}`;
    const out = redactSecrets(text, [assertion, `${assertion}+/`]);
    expect(out).not.toContain("s".repeat(43));
    expect(out).not.toContain("p".repeat(40));
    expect(out).toContain(REDACTED);
  });

  it("leaves short values alone (they would redact ordinary words)", () => {
    expect(redactSecrets("the value true", ["true"])).toBe("the value true");
  });

  it("redacts before capping, so a cap never leaves a secret's head", () => {
    const secret = "S".repeat(300);
    const out = serverText(`${"x".repeat(100)}${secret}`, 128, [secret]) as string;
    expect(out).toBe(`${"x".repeat(100)}${REDACTED}`);
  });
});

describe("parseErrorResponse and parseTokenResponse clean what they quote", () => {
  const sent = {
    headers: { authorization: "Bearer echo-me-123456789" },
    body: "client_assertion=assertion-echo-me-123456789",
  };

  it("keeps the first line of a description in the message, cleaned and redacted", () => {
    const error = parseErrorResponse(
      {
        status: 400,
        headers: {},
        body: JSON.stringify({
          error: "invalid_client\u001b[2J",
          error_description: "AADSTS1: bad assertion-echo-me-123456789\r\nTrace ID: 1\r\nCorrelation ID: 2",
        }),
      },
      { what: "the token endpoint", now: 0, sent },
    );
    expect(error.message).toBe(
      `the token endpoint answered HTTP 400 (invalid_client [2J: AADSTS1: bad ${REDACTED}).`,
    );
    expect(error.errorDescription).toBe(`AADSTS1: bad ${REDACTED} Trace ID: 1 Correlation ID: 2`);
  });

  it("drops a claims challenge longer than its cap instead of cutting it", () => {
    const error = parseErrorResponse(
      {
        status: 400,
        headers: {},
        body: JSON.stringify({ error: "x", claims: "c".repeat(SERVER_TEXT_LIMITS.claims + 1) }),
      },
      { what: "w", now: 0 },
    );
    expect(error.claims).toBeUndefined();
  });

  it("a token_type that echoes the token or a secret shows neither", () => {
    const token = "T".repeat(30);
    expect(() =>
      parseTokenResponse(
        {
          status: 200,
          headers: {},
          body: JSON.stringify({ access_token: token, token_type: `${token}\r\n`, expires_in: 60 }),
        },
        { expectedTokenType: "mtls_pop", now: 0, sent },
      ),
    ).toThrow(/got "\[redacted\]"/);
  });
});
