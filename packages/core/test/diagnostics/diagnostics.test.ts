// The diagnostics_channel events of core: what is published where, and what a payload may hold.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import {
  type AcquireEvent,
  type CacheLookupEvent,
  CertboundError,
  DIAGNOSTICS_CHANNELS,
  type HttpRequestEvent,
  type HttpTransport,
  type ResourceCallEvent,
  type RetryDiagnosticsEvent,
} from "@certbound/core";
import {
  createTokenManager,
  runInAcquisition,
  sendWithRetry,
  tokenEndpointRetryPolicy,
  traceResourceCall,
} from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { afterEach, describe, expect, it } from "vitest";
import { describeUrl } from "../../src/diagnostics/diagnostics";

type Seen = Array<[string, unknown]>;
const subscriptions: Array<[string, (message: unknown, name: string | symbol) => void]> = [];
function listen(...names: string[]): Seen {
  const seen: Seen = [];
  for (const name of names) {
    // A snapshot: the same payload object is filled in between start and end.
    const handler = (message: unknown) => seen.push([name, { ...(message as object) }]);
    subscriptions.push([name, handler]);
    subscribe(name, handler);
  }
  return seen;
}
function at(seen: Seen, i: number): unknown {
  const entry = seen[i];
  if (!entry) throw new Error(`nothing published at ${i}`);
  return entry[1];
}
afterEach(() => {
  for (const [name, handler] of subscriptions.splice(0)) unsubscribe(name, handler);
});

const C = DIAGNOSTICS_CHANNELS;

describe("describeUrl", () => {
  it("drops query and fragment, and without PII hides tenant-like path segments only", () => {
    const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    expect(describeUrl(`https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token?x=1#f`, false)).toEqual(
      {
        url: "https://login.microsoftonline.com/<pii>/oauth2/v2.0/token",
        serverAddress: "login.microsoftonline.com",
        serverPort: 443,
        origin: "https://login.microsoftonline.com",
      },
    );
    expect(describeUrl("https://login.example/contoso.onmicrosoft.com/oauth2/v2.0/token", false).url).toBe(
      "https://login.example/<pii>/oauth2/v2.0/token",
    );
    expect(describeUrl(`https://login.example/${tenant}/oauth2/v2.0/token`, true).url).toBe(
      `https://login.example/${tenant}/oauth2/v2.0/token`,
    );
    expect(describeUrl("http://[::1]:8080/metadata/identity/oauth2/token?resource=r", false)).toMatchObject({
      url: "http://[::1]:8080/metadata/identity/oauth2/token",
      serverAddress: "::1",
      serverPort: 8080,
    });
    // Userinfo never reaches a payload.
    expect(describeUrl("https://user:pass@host.example/p", true).url).toBe("https://host.example/p");
    expect(describeUrl("not a url", true).url).toBe("<invalid url>");
  });
});

describe("token manager", () => {
  const source = (clock: { now(): number }) => async () => ({
    accessToken: "t".repeat(40),
    tokenType: "Bearer" as const,
    expiresOn: new Date(clock.now() + 3_600_000),
    tenantId: "tenant-of-the-token",
    tokenEndpoint: "https://login.example/tenant-of-the-token.example/oauth2/v2.0/token?q=1",
  });

  it("publishes one payload per call on start then end, and each cache lookup with why it missed", async () => {
    const clock = createTestClock();
    const manager = createTokenManager({ fetcher: source(clock), clock });
    const seen = listen(C.acquireStart, C.acquireEnd, C.acquireError, C.cacheLookup);
    const request = { clientId: "client-x", authority: "a", scopes: ["s"], correlationId: "corr-1" };
    await manager.acquireToken(request);
    await manager.acquireToken(request);
    await manager.acquireToken({ ...request, forceRefresh: true });
    expect(
      seen.map(([name, m]) => [name, (m as CacheLookupEvent).reason ?? (m as AcquireEvent).tokenSource]),
    ).toEqual([
      [C.acquireStart, undefined],
      [C.cacheLookup, "absent"],
      [C.acquireEnd, "identity_provider"],
      [C.acquireStart, undefined],
      [C.cacheLookup, undefined],
      [C.acquireEnd, "cache"],
      [C.acquireStart, undefined],
      [C.cacheLookup, "bypassed"],
      [C.acquireEnd, "identity_provider"],
    ]);
    const end = at(seen, 2) as AcquireEvent;
    expect(end).toMatchObject({
      tokenType: "Bearer",
      correlationId: "corr-1",
      endpointOrigin: "https://login.example",
      expiresInMs: 3_600_000,
      retries: 0,
      pii: false,
    });
    // No PII logging: neither the client nor the tenant.
    expect(end.clientId).toBeUndefined();
    expect(end.tenantId).toBeUndefined();
    expect((at(seen, 4) as CacheLookupEvent).hit).toBe(true);
    manager.close();
  });

  it("an expiring entry is a miss for `expiring`; a failure is published on error with its code", async () => {
    const clock = createTestClock();
    let fail = false;
    const manager = createTokenManager({
      clock,
      logger: { piiLoggingEnabled: true, log: () => {} },
      fetcher: async () => {
        if (fail) throw new CertboundError("network_error", "down", { correlationId: "corr-err" });
        return source(clock)();
      },
    });
    const seen = listen(C.acquireStart, C.acquireEnd, C.acquireError, C.cacheLookup);
    const request = { clientId: "client-x", authority: "a", scopes: ["s"] };
    await manager.acquireToken(request);
    await clock.advance(3_600_000 - 60_000);
    fail = true;
    await expect(manager.acquireToken(request)).rejects.toMatchObject({ code: "network_error" });
    // With PII logging on: the client and the tenant.
    expect((at(seen, 2) as AcquireEvent).clientId).toBe("client-x");
    expect((at(seen, 2) as AcquireEvent).tenantId).toBe("tenant-of-the-token");
    expect(seen.slice(4).map(([name, m]) => [name, (m as CacheLookupEvent).reason])).toEqual([
      [C.cacheLookup, "expiring"],
      [C.acquireError, undefined],
    ]);
    expect((at(seen, 5) as AcquireEvent).error).toEqual({ code: "network_error", name: "CertboundError" });
    expect((at(seen, 5) as AcquireEvent).correlationId).toBe("corr-err");
    manager.close();
  });
});

describe("sendWithRetry", () => {
  function scripted(steps: Array<number | "network_error">): HttpTransport {
    return {
      async send() {
        const step = steps.shift();
        if (step === "network_error") throw new CertboundError("network_error", "refused");
        return { status: step ?? 200, headers: {}, body: "{}" };
      },
    };
  }

  it("publishes each attempt and each retry (reason and delay), counted on the acquisition it runs in", async () => {
    const clock = createTestClock();
    const seen = listen(C.requestStart, C.requestEnd, C.requestError, C.retry);
    const acquisition: AcquireEvent = {
      tokenType: "Bearer",
      correlationId: undefined,
      forceRefresh: false,
      claims: false,
      scopeCount: 1,
      retries: 0,
      pii: false,
    };
    const response = await runInAcquisition(acquisition, () =>
      sendWithRetry(
        scripted([503]),
        {
          method: "POST",
          url: "https://login.example/contoso.onmicrosoft.com/oauth2/v2.0/token?secret=1",
          headers: { authorization: "secret header" },
          body: "client_assertion=secret",
        },
        { policy: tokenEndpointRetryPolicy, clock },
      ),
    );
    expect(response.status).toBe(200);
    expect(acquisition.retries).toBe(1);
    expect(seen.map(([name]) => name)).toEqual([
      C.requestStart,
      C.requestEnd,
      C.retry,
      C.requestStart,
      C.requestEnd,
    ]);
    const first = at(seen, 1) as HttpRequestEvent;
    expect(first).toMatchObject({
      method: "POST",
      url: "https://login.example/<pii>/oauth2/v2.0/token",
      serverAddress: "login.example",
      serverPort: 443,
      attempt: 1,
      policy: tokenEndpointRetryPolicy.name,
      mutualTls: false,
      statusCode: 503,
    });
    expect(first.acquisition).toBe(acquisition);
    expect(at(seen, 2) as RetryDiagnosticsEvent).toMatchObject({
      reason: "http_503",
      delayMs: 1000,
      retry: 1,
    });
    expect((at(seen, 3) as HttpRequestEvent).attempt).toBe(2);
    expect(JSON.stringify(seen.map(([, m]) => ({ ...(m as object), acquisition: undefined })))).not.toMatch(
      /secret/,
    );
  });

  it("a transport failure is published on error with its code, and retried for that reason", async () => {
    const clock = createTestClock();
    const seen = listen(C.requestStart, C.requestError, C.retry);
    await sendWithRetry(
      scripted(["network_error"]),
      { method: "GET", url: "https://login.example/x", headers: {} },
      { policy: tokenEndpointRetryPolicy, clock },
    );
    expect(
      seen.map(([name, m]) => [
        name,
        (m as HttpRequestEvent).error?.code ?? (m as RetryDiagnosticsEvent).reason,
      ]),
    ).toEqual([
      [C.requestStart, undefined],
      [C.requestError, "network_error"],
      [C.retry, "network_error"],
      [C.requestStart, undefined],
    ]);
  });
});

describe("traceResourceCall (the hook for resource calls outside ResourceCaller)", () => {
  it("without subscribers returns send() itself; with them publishes start and end without the query", async () => {
    const answer = Promise.resolve({ status: 204 });
    expect(
      traceResourceCall(
        { method: "GET", url: "https://r.example/a", tokenType: "Bearer", mutualTls: false },
        () => answer,
      ),
    ).toBe(answer);
    const seen = listen(C.resourceStart, C.resourceEnd, C.resourceError);
    await traceResourceCall(
      { method: "GET", url: "https://r.example/a?sig=secret", tokenType: "mtls_pop", mutualTls: true },
      async () => ({ status: 204 }),
    );
    await expect(
      traceResourceCall(
        { method: "GET", url: "https://r.example/b", tokenType: "Bearer", mutualTls: false },
        () => {
          throw new CertboundError("timeout", "slow");
        },
      ),
    ).rejects.toMatchObject({ code: "timeout" });
    expect(
      seen.map(([name, m]) => [
        name,
        (m as ResourceCallEvent).url,
        (m as ResourceCallEvent).statusCode,
        (m as ResourceCallEvent).error?.code,
      ]),
    ).toEqual([
      [C.resourceStart, "https://r.example/a", undefined, undefined],
      [C.resourceEnd, "https://r.example/a", 204, undefined],
      [C.resourceStart, "https://r.example/b", undefined, undefined],
      [C.resourceError, "https://r.example/b", undefined, "timeout"],
    ]);
  });
});
