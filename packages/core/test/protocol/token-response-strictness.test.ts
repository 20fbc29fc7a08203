import { type HttpResponse, ServiceError } from "@certbound/core";
import { parseExpiry, parseTokenResponse } from "@certbound/core/credential-kit";
import { describe, expect, it } from "vitest";

// Outside review (issue 12 item 10) and MSAL.NET parity (issue 13 items 4 and 7): what a token
// endpoint answer may say about itself and still count as a token.
const now = Date.UTC(2026, 10, 1);
const answer = (json: unknown, status = 200): HttpResponse => ({
  status,
  headers: {},
  body: JSON.stringify(json),
});
const bearer = { expectedTokenType: "Bearer" as const, now, correlationId: "corr-1" };
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return "none";
};

describe("strict expiry dates", () => {
  it("reads only the date shapes services send", () => {
    const inOneHour = now + 3600_000;
    expect(parseExpiry("2026-11-01T01:00:00Z", now)).toBe(inOneHour);
    expect(parseExpiry("2026-11-01T02:00:00.123+01:00", now)).toBe(inOneHour + 123);
    expect(parseExpiry("Sun, 01 Nov 2026 01:00:00 GMT", now)).toBe(inOneHour);
    expect(parseExpiry("11/01/2026 01:00:00 +00:00", now)).toBe(inOneHour);
    // App Service 2017-09-01 answers "MM/dd/yyyy hh:mm:ss tt +00:00".
    expect(parseExpiry("11/01/2026 01:00:00 AM +00:00", now)).toBe(inOneHour);
    expect(parseExpiry("11/01/2026 01:00:00 PM +00:00", now)).toBe(inOneHour + 12 * 3600_000);
    expect(parseExpiry("11/01/2026 12:30:00 AM +00:00", now)).toBe(now + 30 * 60_000);
  });

  it('refuses what Date.parse guesses at, like "abc 2001"', () => {
    for (const bad of [
      "abc 2001",
      "Tue 2001",
      "foo 1 2030",
      "Jan 1 2030",
      "2030-13-01T00:00:00Z",
      "2026-11-01T01:00:00", // no zone: would be read in the machine's local time
      "02/31/2026 01:00:00 +00:00",
      "13/01/2026 01:00:00 +00:00",
      "11/01/2026 13:00:00 PM +00:00",
      "11/01/2026 25:00:00 +00:00",
      "tomorrow",
      "",
    ]) {
      expect(parseExpiry(bad, now), bad).toBeUndefined();
    }
  });
});

describe("token endpoint answers", () => {
  // Follows MSAL.NET src/client/Microsoft.Identity.Client/OAuth2/MsalTokenResponse.cs (`expires_in`
  // is a relative `long`; only managed identity's `expires_on` may be an absolute time).
  it("expires_in is relative seconds however large (never an absolute epoch)", () => {
    const parsed = parseTokenResponse(
      answer({
        access_token: "t",
        token_type: "Bearer",
        expires_in: 1_800_000_000,
        refresh_in: 1_000_000_000,
      }),
      bearer,
    );
    expect(parsed.expiresOn.getTime()).toBe(now + 1_800_000_000_000);
    expect(parsed.refreshOn?.getTime()).toBe(now + 1_000_000_000_000);
    const asString = parseTokenResponse(
      answer({ access_token: "t", token_type: "Bearer", expires_in: "978307200" }),
      bearer,
    );
    expect(asString.expiresOn.getTime()).toBe(now + 978_307_200_000);
  });

  // Outside review, issue 12 item 10.
  it("an already expired token is invalid_token_response, never a success", () => {
    for (const json of [
      { access_token: "t", token_type: "Bearer", expires_in: 0 },
      { access_token: "t", token_type: "Bearer", expires_in: "0" },
      { access_token: "t", token_type: "Bearer", expires_on: Math.floor(now / 1000) - 60 },
      { access_token: "t", token_type: "Bearer", expires_on: "abc 2001" },
      { access_token: "t", token_type: "Bearer", expires_in: -1 },
    ]) {
      expect(
        codeOf(() => parseTokenResponse(answer(json), bearer)),
        JSON.stringify(json),
      ).toBe("invalid_token_response");
    }
    expect(
      parseTokenResponse(answer({ access_token: "t", token_type: "Bearer", expires_in: 1 }), bearer)
        .expiresOn,
    ).toEqual(new Date(now + 1000));
  });

  // Follows MSAL.NET src/client/Microsoft.Identity.Client/OAuth2/OAuth2Client.cs ExecuteRequestAsync
  // (`expectErrorsOn200OK`: a 200 whose body carries `error` is thrown as MsalServiceException) and
  // tests/Microsoft.Identity.Test.Unit/RequestsTests/DeviceCodeRequestTests.cs DeviceCodeExceptionsOn200OKAsync.
  it("a 200 whose JSON carries `error` is a ServiceError with that error code", () => {
    const body = {
      error: "invalid_client",
      error_description: "AADSTS7000215: Invalid client secret provided.",
      error_codes: [7000215],
      // A lying server may add a token too: it is not taken.
      access_token: "eyJ.looks.valid",
      token_type: "Bearer",
      expires_in: 3600,
    };
    let caught: unknown;
    try {
      parseTokenResponse(answer(body), bearer);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ServiceError);
    expect(caught).toMatchObject({
      code: "service_error",
      status: 200,
      errorCode: "invalid_client",
      errorCodes: [7000215],
      correlationId: "corr-1",
    });
    expect((caught as Error).message).not.toContain("eyJ.looks.valid");
    // The nested managed-identity shape is read the same way.
    expect(() =>
      parseTokenResponse(
        answer({ error: { code: "invalid_resource", message: "no" }, access_token: "t" }),
        bearer,
      ),
    ).toThrow(expect.objectContaining({ errorCode: "invalid_resource", status: 200 }));
  });
});
