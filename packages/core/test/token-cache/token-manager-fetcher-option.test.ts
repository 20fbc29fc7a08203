// `fetcher` is the token manager's network seam; `source` is its deprecated former name, kept so
// code written against 0.1 still runs while "source" comes to mean only a managed identity's source.

import { CertboundError } from "@certbound/core";
import { type AcquiredToken, createTokenManager, type FetchRequest } from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { describe, expect, it } from "vitest";

const request = { clientId: "app", authority: "https://login.example/tenant", scopes: ["api://x/.default"] };

function counted(clock: { now(): number }) {
  const calls: FetchRequest[] = [];
  const fetcher = async (req: FetchRequest): Promise<AcquiredToken> => {
    calls.push(req);
    return {
      accessToken: `t${calls.length}`,
      tokenType: "Bearer",
      expiresOn: new Date(clock.now() + 3600_000),
    };
  };
  return { calls, fetcher };
}

describe("token manager fetcher option", () => {
  it("acquires through `fetcher`", async () => {
    const clock = createTestClock({ now: Date.UTC(2030, 0, 1) });
    const { calls, fetcher } = counted(clock);
    const manager = createTokenManager({ fetcher, clock });
    expect((await manager.acquireToken(request)).accessToken).toBe("t1");
    expect(calls).toHaveLength(1);
  });

  it("still acquires through the deprecated `source`", async () => {
    const clock = createTestClock({ now: Date.UTC(2030, 0, 1) });
    const { calls, fetcher } = counted(clock);
    const manager = createTokenManager({ source: fetcher, clock });
    expect((await manager.acquireToken(request)).accessToken).toBe("t1");
    expect(calls).toHaveLength(1);
  });

  it("refuses both names at once, and neither, with invalid_options saying what to pass", () => {
    const clock = createTestClock({ now: Date.UTC(2030, 0, 1) });
    const { fetcher } = counted(clock);
    const both = () => createTokenManager({ fetcher, source: fetcher, clock });
    expect(both).toThrow(CertboundError);
    expect(both).toThrow(/Pass `fetcher` only/);
    const neither = () => createTokenManager({ clock });
    expect(neither).toThrow(/`fetcher` must be a function/);
    try {
      neither();
    } catch (error) {
      expect((error as CertboundError).code).toBe("invalid_options");
    }
  });
});
