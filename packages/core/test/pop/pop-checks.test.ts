import {
  type Credential,
  createAuthorizationHeader,
  MtlsPopTokenAcquirer,
  ResourceCaller,
  type TokenResult,
  verifyMtlsPopResult,
} from "@certbound/core";
import {
  createCertificateAuthority,
  parseBearerChallenge,
  tokenBindingThumbprint,
} from "@certbound/core/credential-kit";
import { describe, expect, it } from "vitest";

const ca = createCertificateAuthority();
const cert = ca.issue({ commonName: "bound" });
const other = ca.issue({ commonName: "other" });
const jwt = (payload: object) =>
  `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.sig`;

const pop = (overrides: Partial<TokenResult> = {}): TokenResult => ({
  accessToken: jwt({ cnf: { "x5t#S256": cert.x5tS256 } }),
  tokenType: "mtls_pop",
  expiresOn: new Date(Date.now() + 3600_000),
  scopes: ["https://r/.default"],
  bindingCertificate: cert,
  metadata: { tokenSource: "identity_provider", correlationId: "c", durationMs: 1 },
  ...overrides,
});

describe("the vanilla flow's checklist", () => {
  it("accepts a bound PoP result", () => {
    expect(verifyMtlsPopResult(pop()).tokenType).toBe("mtls_pop");
    expect(tokenBindingThumbprint(pop().accessToken)).toBe(cert.x5tS256);
    expect(tokenBindingThumbprint("opaque-token")).toBeUndefined();
  });

  it.each([
    ["a Bearer result", { tokenType: "Bearer" as const }],
    ["a result without certificate", { bindingCertificate: undefined }],
    ["a result whose cnf does not match", { accessToken: jwt({ cnf: { "x5t#S256": other.x5tS256 } }) }],
  ])("rejects %s with pop_validation_failed", (_name, overrides) => {
    expect(() => verifyMtlsPopResult(pop(overrides))).toThrow(
      expect.objectContaining({ code: "pop_validation_failed" }),
    );
  });

  it("MtlsPopTokenAcquirer asks any credential for PoP through getToken and checks the result", async () => {
    const asked: unknown[] = [];
    const good: Credential = {
      getToken: async (scopes, options) => {
        asked.push({ scopes, ...options });
        return pop();
      },
    };
    const downgrading: Credential = {
      getToken: async (scopes, options) => {
        asked.push({ scopes, ...options });
        return pop({ tokenType: "Bearer" });
      },
    };
    const signal = new AbortController().signal;
    await new MtlsPopTokenAcquirer(good).acquireToken("https://r/.default", { signal, claims: "{}" });
    await expect(
      new MtlsPopTokenAcquirer(downgrading).acquireToken(["https://r/.default"]),
    ).rejects.toMatchObject({
      code: "pop_validation_failed",
    });
    expect(asked).toEqual([
      { scopes: ["https://r/.default"], mtlsProofOfPossession: true, signal, claims: "{}" },
      { scopes: ["https://r/.default"], mtlsProofOfPossession: true },
    ]);
  });

  it("MtlsPopTokenAcquirer takes credentials only: no more guessing from MSAL-shaped method names", () => {
    // The clients' MSAL-shaped methods alone no longer make a credential: `getToken` is the contract.
    const msalShaped = { acquireTokenForClient: async () => pop() };
    for (const notACredential of [{}, null, msalShaped, { getToken: "not a function" }]) {
      expect(() => new MtlsPopTokenAcquirer(notACredential as never)).toThrow(
        expect.objectContaining({ code: "invalid_options" }),
      );
    }
  });

  it("a credential answering nothing fails the checklist, not with a TypeError", async () => {
    const empty = { getToken: async () => undefined as unknown as TokenResult };
    await expect(new MtlsPopTokenAcquirer(empty).acquireToken("https://r/.default")).rejects.toMatchObject({
      code: "pop_validation_failed",
    });
  });
});

describe("ResourceCaller before any I/O", () => {
  it("refuses a PoP token without its binding certificate and sends nothing", async () => {
    let sent = 0;
    const caller = new ResourceCaller({
      transport: {
        send: async () => {
          sent++;
          return { status: 200, headers: {}, body: "" };
        },
      },
    });
    await expect(caller.call(pop({ bindingCertificate: undefined }), "https://r/")).rejects.toMatchObject({
      code: "binding_certificate_missing",
    });
    expect(sent).toBe(0);
  });

  it("closes only a transport it created", async () => {
    let closed = 0;
    const make = () => ({
      send: async () => ({ status: 200, headers: {}, body: "" }),
      close: async () => void closed++,
    });
    await new ResourceCaller({ transport: make() }).close();
    expect(closed).toBe(0);
    {
      await using caller = new ResourceCaller({ transport: make });
      void caller;
    }
    expect(closed).toBe(1);
  });

  it("sends each call with its own token and scheme, though the header of the last token is reused", async () => {
    const sent: string[] = [];
    const transport = {
      async send(request: { headers?: Readonly<Record<string, string>> }) {
        sent.push(request.headers?.authorization ?? "");
        return { status: 200, headers: {}, body: "" };
      },
    };
    const options: { transport: typeof transport; scheme?: "Bearer" | "mtls_pop" } = { transport };
    const caller = new ResourceCaller(options);
    const a = pop();
    const b = pop({ accessToken: jwt({ cnf: { "x5t#S256": cert.x5tS256 }, n: 2 }) });
    await caller.call(a, "https://r.example/x");
    await caller.call(a, "https://r.example/x");
    await caller.call(b, "https://r.example/x");
    options.scheme = "mtls_pop";
    await caller.call(b, "https://r.example/x");
    expect(sent).toEqual([
      `Bearer ${a.accessToken}`,
      `Bearer ${a.accessToken}`,
      `Bearer ${b.accessToken}`,
      `mtls_pop ${b.accessToken}`,
    ]);
    // The https check holds on every call, after a URL passed too.
    await expect(caller.call(a, "http://r.example/x")).rejects.toMatchObject({ code: "invalid_options" });
  });

  it("builds authorization headers and reads Bearer challenges", () => {
    expect(createAuthorizationHeader({ accessToken: "t" })).toBe("Bearer t");
    expect(createAuthorizationHeader({ accessToken: "t" }, "mtls_pop")).toBe("mtls_pop t");
    expect(
      parseBearerChallenge('Bearer error="invalid_token", error_description="a \\"b\\", c", realm=x'),
    ).toEqual({
      error: "invalid_token",
      error_description: 'a "b", c',
      realm: "x",
    });
  });
});
