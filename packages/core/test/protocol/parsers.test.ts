import { type HttpResponse, ServiceError } from "@certbound/core";
import {
  buildTokenRequest,
  encodeForm,
  halfLifeRefresh,
  parseErrorResponse,
  parseExpiry,
  parseRetryAfter,
  parseTokenResponse,
} from "@certbound/core/credential-kit";
import { describe, expect, it } from "vitest";

const now = Date.UTC(2026, 10, 1);
const ok = (json: unknown, status = 200): HttpResponse => ({
  status,
  headers: {},
  body: JSON.stringify(json),
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP-dates, and ignores garbage", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter(new Date(now - 30_000).toUTCString(), now)).toBe(0);
    for (const bad of [undefined, "", "-1", "1.5", "soon", "12 34"])
      expect(parseRetryAfter(bad, now)).toBeUndefined();
  });
});

describe("parseExpiry", () => {
  it("reads relative seconds, absolute epochs, numeric strings and dates", () => {
    expect(parseExpiry(3599, now)).toBe(now + 3_599_000);
    expect(parseExpiry("3599", now)).toBe(now + 3_599_000);
    expect(parseExpiry(1_800_000_000, now)).toBe(1_800_000_000_000);
    expect(parseExpiry("1800000000", now)).toBe(1_800_000_000_000);
    expect(parseExpiry(978_307_200, now)).toBe(978_307_200_000);
    expect(parseExpiry("2026-11-01T01:00:00Z", now)).toBe(now + 3600_000);
    expect(parseExpiry("11/01/2026 01:00:00 +00:00", now)).toBe(now + 3600_000);
    for (const bad of [undefined, null, -5, "abc", {}, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(parseExpiry(bad, now)).toBeUndefined();
    }
  });

  it("refreshes long-lived managed-identity tokens at half-life only", () => {
    expect(halfLifeRefresh(now, now + 24 * 3600_000)).toBe(now + 12 * 3600_000);
    expect(halfLifeRefresh(now, now + 2 * 3600_000)).toBeUndefined();
  });
});

describe("token requests", () => {
  it("encodes forms, leaving out undefined fields", () => {
    expect(encodeForm({ a: "x y", b: undefined, scope: "https://r/.default openid" })).toBe(
      "a=x+y&scope=https%3A%2F%2Fr%2F.default+openid",
    );
  });

  it("sends the headers of protocol.md section 2 with a fresh UUID unless given", () => {
    const a = buildTokenRequest({ url: "https://h/t/oauth2/v2.0/token", form: { client_id: "c" } });
    const b = buildTokenRequest({ url: "https://h/t/oauth2/v2.0/token", form: {}, correlationId: "given" });
    expect(a.headers["client-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.headers["client-request-id"]).toBe("given");
    expect(a.headers).toMatchObject({
      "return-client-request-id": "true",
      "x-ms-lib-capability": "retry-after, h429",
      "content-type": "application/x-www-form-urlencoded;charset=utf-8",
    });
    expect(a.headers["x-client-sku"]).toBeTruthy();
    expect(a.headers["x-client-ver"]).toBeTruthy();
    expect(a.headers["x-client-os"]).toBe(process.platform);
    expect(a.method).toBe("POST");
    expect(a.body).toBe("client_id=c");
  });
});

describe("parseTokenResponse", () => {
  const opts = { expectedTokenType: "mtls_pop" as const, now };

  it("accepts a PoP answer with token type in any case, and reads refresh_in", () => {
    const parsed = parseTokenResponse(
      ok({
        access_token: "tok",
        token_type: "MTLS_POP",
        expires_in: 3600,
        ext_expires_in: 7200,
        refresh_in: 1800,
      }),
      opts,
    );
    expect(parsed).toEqual({
      accessToken: "tok",
      tokenType: "mtls_pop",
      expiresOn: new Date(now + 3600_000),
      refreshOn: new Date(now + 1800_000),
      extExpiresOn: new Date(now + 7200_000),
    });
  });

  it("gives token_type_missing, token_type_mismatch and invalid_token_response with stable codes", () => {
    const code = (json: unknown) => {
      try {
        parseTokenResponse(ok(json), opts);
      } catch (e) {
        return (e as { code: string }).code;
      }
      return "none";
    };
    expect(code({ access_token: "t", expires_in: 1 })).toBe("token_type_missing");
    expect(code({ access_token: "t", token_type: "Bearer", expires_in: 1 })).toBe("token_type_mismatch");
    expect(code({ token_type: "mtls_pop", expires_in: 1 })).toBe("invalid_token_response");
    expect(code({ access_token: "t", token_type: "mtls_pop" })).toBe("invalid_token_response");
    expect(code([1, 2])).toBe("invalid_token_response");
  });

  it("refuses malformed JSON and oversized bodies without quoting the body", () => {
    const secret = "eyJSECRET";
    const malformed = () =>
      parseTokenResponse({ status: 200, headers: {}, body: `{"access_token":"${secret}"` }, opts);
    expect(malformed).toThrow(expect.objectContaining({ code: "invalid_token_response" }));
    expect(() => malformed()).not.toThrow(new RegExp(secret));
    const big = { status: 200, headers: {}, body: `{"access_token":"${"a".repeat(1024 * 1024)}"}` };
    expect(() => parseTokenResponse(big, opts)).toThrow(
      expect.objectContaining({ code: "response_too_large" }),
    );
  });

  it("turns an Entra error body into a typed ServiceError with every field", () => {
    const body = {
      error: "invalid_client",
      error_description: "AADSTS700027: Client assertion failed.\r\nTrace ID: t\r\nCorrelation ID: c",
      error_codes: [700027],
      timestamp: "2026-11-01 00:00:00Z",
      trace_id: "trace-1",
      correlation_id: "corr-1",
      suberror: "sub",
      claims: '{"access_token":{}}',
    };
    let error: unknown;
    try {
      parseTokenResponse(
        { status: 401, headers: { "retry-after": "3" }, body: JSON.stringify(body) },
        { ...opts, hint: (e) => (e === "invalid_client" ? "Register the certificate." : undefined) },
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({
      code: "service_error",
      status: 401,
      errorCode: "invalid_client",
      errorCodes: [700027],
      traceId: "trace-1",
      correlationId: "corr-1",
      suberror: "sub",
      claims: '{"access_token":{}}',
      retryAfterMs: 3000,
    });
    expect((error as Error).message).toContain("AADSTS700027: Client assertion failed.");
    expect((error as Error).message).toContain("Register the certificate.");
    expect((error as Error).message).not.toContain("Trace ID");
  });

  it("reads nested managed-identity errors and non-JSON error pages", () => {
    const nested = parseErrorResponse(ok({ error: { code: "BadRequest", message: "no identity" } }, 400), {
      what: "IMDS",
      now,
    });
    expect(nested).toMatchObject({ errorCode: "BadRequest", errorDescription: "no identity", status: 400 });
    const html = parseErrorResponse(
      { status: 502, headers: {}, body: "<html>bad gateway</html>" },
      { what: "x", now },
    );
    expect(html).toMatchObject({ status: 502, errorCode: undefined });
    expect(html.message).toContain("HTTP 502");
  });
});

describe("client identification", () => {
  it("sends the version that package.json declares", async () => {
    const { CLIENT_VERSION } = await import("@certbound/core/credential-kit");
    const pkg = (await import("../../package.json", { with: { type: "json" } })).default as {
      version: string;
    };
    expect(CLIENT_VERSION).toBe(pkg.version);
  });
});
