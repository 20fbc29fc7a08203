import { describe, expect, it } from "vitest";
import { parseManagedIdentityResponse } from "../src/parse-managed-identity-response";
import { json } from "./helpers/fake-transport";

// Outside review, issue 12 item 10: an expired token is an error, and dates are read strictly.
const now = Date.UTC(2026, 5, 1);
const opts = { what: "IMDS", now, correlationId: "corr-1" };
const parse = (body: unknown) => parseManagedIdentityResponse(json(200, body), opts);

describe("managed-identity token expiry", () => {
  it("an already expired token is managed_identity_request_failed, never a success", () => {
    for (const body of [
      { access_token: "t", expires_on: Math.floor(now / 1000) - 1 },
      { access_token: "t", expires_on: Math.floor(now / 1000) },
      { access_token: "t", expires_in: 0 },
      { access_token: "t", expires_on: "06/01/2026 00:00:00 +00:00" },
    ]) {
      expect(() => parse(body), JSON.stringify(body)).toThrow(
        expect.objectContaining({ code: "managed_identity_request_failed", correlationId: "corr-1" }),
      );
    }
  });

  it('refuses "abc 2001" and other guesses as an expiry; keeps the absolute epoch of expires_on', () => {
    for (const expires_on of ["abc 2001", "Jan 1 2030", "2030-01-01T00:00:00"]) {
      expect(() => parse({ access_token: "t", expires_on }), expires_on).toThrow(
        expect.objectContaining({ code: "managed_identity_request_failed" }),
      );
    }
    const epoch = Math.floor(now / 1000) + 3600;
    expect(parse({ access_token: "t", expires_on: String(epoch) }).expiresOn.getTime()).toBe(epoch * 1000);
    expect(
      parse({ access_token: "t", expires_on: "06/01/2026 01:00:00 AM +00:00" }).expiresOn.getTime(),
    ).toBe(now + 3600_000);
  });
});
