// The public request types leave out the hot-path hints (`now`, `context`): they are internal
// (TokenManagerCall), so their shape can change without a breaking release. The checks are
// type-level: `tsc` (run by `npm test`) fails when a hint becomes public again, because each
// expect-error directive below would then have no error to expect.

import type { TokenManagerCall, TokenManagerRequest } from "@certbound/core/credential-kit";
import { describe, expect, it } from "vitest";

const base = { clientId: "app", authority: "https://login.example/tenant", scopes: ["api://x/.default"] };

describe("token manager public types", () => {
  it("TokenManagerRequest has no `now` or `context`; TokenManagerCall carries them", () => {
    // @ts-expect-error `now` is an internal hint, not part of the public request
    const withNow: TokenManagerRequest = { ...base, now: 1 };
    // @ts-expect-error `context` is an internal hint, not part of the public request
    const withContext: TokenManagerRequest = { ...base, context: "certificate" };
    const call: TokenManagerCall<string> = { ...base, now: 1, context: "certificate" };
    // Every internal call is still a request: the manager accepts it as one.
    const asRequest: TokenManagerRequest = call;
    expect([withNow, withContext, asRequest].map((r) => r.clientId)).toEqual(["app", "app", "app"]);
  });
});
