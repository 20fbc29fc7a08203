// createPopFetch against real HTTPS servers on 127.0.0.1 that ask for client certificates: which
// certificate is presented, how many handshakes, and the refusal rules it shares with ResourceCaller.

import type { Credential, GetTokenOptions, TokenResult } from "@certbound/core";
import type { IssuedCertificate } from "@certbound/core/credential-kit";
import { createPopFetch, createUndiciTransport, type PopFetch } from "@certbound/http-undici";
import { startHttpsTestServer, useTransportTestbed } from "@certbound/testing";
import { afterEach, describe, expect, it } from "vitest";

const bed = useTransportTestbed({
  handler: (req, res) => {
    if (req.url === "/hang") return; // held until the client gives up
    if (req.url === "/redirect") {
      res.writeHead(302, { location: String(req.headers["x-redirect-to"]) }).end();
      return;
    }
    res.end(`hello ${String(req.headers.authorization).slice(0, 20)}`);
  },
});

/** A JWT-shaped token (unsigned: only the resource would check the signature) bound to `cert`. */
function tokenFor(cert: IssuedCertificate | undefined, n: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", kid: "k" })}.${part({ n, ...(cert ? { cnf: { "x5t#S256": cert.x5tS256 } } : {}) })}.sig`;
}

/** A credential of our own that records its calls and hands out tokens bound to `current()`. */
function recordingCredential(current: () => IssuedCertificate | undefined) {
  const calls: Array<{ scopes: readonly string[]; options: GetTokenOptions | undefined }> = [];
  const credential: Credential & { calls: typeof calls } = {
    calls,
    async getToken(scopes, options) {
      calls.push({ scopes, options });
      options?.signal?.throwIfAborted();
      const cert = options?.mtlsProofOfPossession ? current() : undefined;
      const result: TokenResult = {
        accessToken: tokenFor(cert, calls.length),
        tokenType: cert ? "mtls_pop" : "Bearer",
        expiresOn: new Date(Date.now() + 3_600_000),
        scopes: [...scopes],
        bindingCertificate: cert ? { ...cert, notAfter: new Date(cert.certificate.validTo) } : undefined,
        metadata: { tokenSource: "identity_provider", correlationId: "c", durationMs: 0 },
      };
      return result;
    },
  };
  return credential;
}

const scopes = ["api://test/.default"];
let open: PopFetch[] = [];
afterEach(async () => {
  await Promise.all(open.map((f) => f.close()));
  open = [];
});
function make(
  options: Omit<Parameters<typeof createPopFetch>[0], "scopes"> & { scopes?: string[] },
): PopFetch {
  const popFetch = createPopFetch({ scopes, ca: bed.ca.certificatePem, ...options });
  open.push(popFetch);
  return popFetch;
}

describe("createPopFetch", () => {
  it("presents the token's binding certificate with one TLS handshake per certificate and origin", async () => {
    let cert = bed.identityA;
    const credential = recordingCredential(() => cert);
    const popFetch = make({ credential });
    for (let i = 0; i < 5; i++) {
      const response = await popFetch(`${bed.server.origin}/data`);
      expect(response.status).toBe(200);
      await response.text();
    }
    expect(bed.server.connections).toBe(1);
    expect(bed.server.requests.map((r) => r.clientX5tS256)).toEqual(Array(5).fill(bed.identityA.x5tS256));
    expect(bed.server.requests[0]?.headers.authorization).toMatch(/^Bearer eyJ/);
    expect(credential.calls[0]?.options?.mtlsProofOfPossession).toBe(true);

    // A rotated certificate gets its own connection; the old one is never reused for it.
    cert = bed.identityB;
    for (let i = 0; i < 3; i++) await (await popFetch(`${bed.server.origin}/data`)).text();
    expect(bed.server.connections).toBe(2);
    expect(bed.server.requests.slice(5).map((r) => r.clientX5tS256)).toEqual(
      Array(3).fill(bed.identityB.x5tS256),
    );

    // Another origin: one more handshake for it, none more for the first.
    const other = await startHttpsTestServer({ authority: bed.ca, handler: (_q, s) => void s.end("other") });
    try {
      for (let i = 0; i < 3; i++) await (await popFetch(`${other.origin}/x`)).text();
      expect(other.connections).toBe(1);
      expect(bed.server.connections).toBe(2);
    } finally {
      await popFetch.close();
      await other.close();
    }
  });

  it("shares the connections of a transport passed in, and leaves it open", async () => {
    const transport = bed.track(createUndiciTransport());
    const credential = recordingCredential(() => bed.identityA);
    const first = createPopFetch({ credential, scopes, transport, ca: bed.ca.certificatePem });
    const second = createPopFetch({ credential, scopes, transport, ca: bed.ca.certificatePem });
    await (await first(`${bed.server.origin}/a`)).text();
    await (await second(`${bed.server.origin}/b`)).text();
    await first.close();
    await (await second(`${bed.server.origin}/c`)).text();
    expect(bed.server.connections).toBe(1);
  });

  it("attaches a Bearer token without a certificate when mtlsProofOfPossession is false", async () => {
    const credential = recordingCredential(() => bed.identityA);
    const popFetch = make({ credential, mtlsProofOfPossession: false });
    await (await popFetch(`${bed.server.origin}/data`)).text();
    expect(bed.server.requests[0]?.clientX5tS256).toBeUndefined();
    expect(credential.calls[0]?.options?.mtlsProofOfPossession).toBe(false);
  });

  it.each(["http://127.0.0.1/data", "ftp://example.test/x", "not a url"])(
    "refuses %s before asking for a token",
    async (url) => {
      const credential = recordingCredential(() => bed.identityA);
      const popFetch = make({ credential });
      await expect(popFetch(url)).rejects.toMatchObject({
        code: "invalid_options",
        message: expect.stringContaining("https://"),
      });
      expect(credential.calls).toHaveLength(0);
    },
  );

  it("never follows a redirect: the 302 comes back and the token never reaches the other origin", async () => {
    const thief = await startHttpsTestServer({ authority: bed.ca, handler: (_q, s) => void s.end("stolen") });
    try {
      const popFetch = make({ credential: recordingCredential(() => bed.identityA) });
      const response = await popFetch(`${bed.server.origin}/redirect`, {
        headers: { "x-redirect-to": `${thief.origin}/steal` },
      });
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe(`${thief.origin}/steal`);
      expect(thief.requests).toHaveLength(0);
      await expect(
        popFetch(`${bed.server.origin}/redirect`, { redirect: "follow" as "manual" }),
      ).rejects.toMatchObject({ code: "invalid_options", message: expect.stringContaining("redirect") });
      await expect(popFetch(`${bed.server.origin}/data`, { dispatcher: {} } as never)).rejects.toMatchObject({
        code: "invalid_options",
      });
    } finally {
      await thief.close();
    }
  });

  describe("a 401 from the resource", () => {
    // Follows MSAL.NET's WwwAuthenticateParameters (claims decoded from base64) as ResourceCaller does.
    const claims = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}';
    async function withServer(
      answers: Array<{ status: number; challenge?: string }>,
      run: (origin: string, seen: () => number) => Promise<void>,
    ) {
      let seen = 0;
      const server = await startHttpsTestServer({
        authority: bed.ca,
        handler: (_req, res) => {
          const answer = answers[Math.min(seen, answers.length - 1)] as {
            status: number;
            challenge?: string;
          };
          seen++;
          res.writeHead(answer.status, answer.challenge ? { "www-authenticate": answer.challenge } : {});
          res.end(String(answer.status));
        },
      });
      try {
        await run(server.origin, () => seen);
      } finally {
        await server.close();
      }
    }

    it("retries once with a new token carrying the challenge's claims", async () => {
      const challenge = `Bearer realm="", error="insufficient_claims", claims="${Buffer.from(claims).toString("base64")}"`;
      await withServer([{ status: 401, challenge }, { status: 200 }], async (origin, seen) => {
        const credential = recordingCredential(() => bed.identityA);
        const response = await make({ credential })(`${origin}/data`);
        expect(response.status).toBe(200);
        expect(seen()).toBe(2);
        expect(credential.calls).toHaveLength(2);
        expect(credential.calls[0]?.options?.claims).toBeUndefined();
        expect(credential.calls[1]?.options).toMatchObject({ claims, forceRefresh: true });
      });
    });

    it("retries an invalid_token once, then hands the second 401 back (no loop)", async () => {
      const challenge = 'Bearer error="invalid_token", error_description="expired"';
      await withServer([{ status: 401, challenge }], async (origin, seen) => {
        const credential = recordingCredential(() => bed.identityA);
        const response = await make({ credential })(`${origin}/data`, { method: "POST", body: "{}" });
        expect(response.status).toBe(401);
        expect(seen()).toBe(2);
        expect(credential.calls).toHaveLength(2);
        expect(credential.calls[1]?.options?.forceRefresh).toBe(true);
      });
    });

    it("does not retry a 401 without a challenge worth a new token, nor one with a stream body", async () => {
      await withServer(
        [{ status: 401, challenge: 'Bearer error="insufficient_scope"' }],
        async (origin, seen) => {
          const credential = recordingCredential(() => bed.identityA);
          expect((await make({ credential })(`${origin}/a`)).status).toBe(401);
          expect(seen()).toBe(1);
        },
      );
      await withServer([{ status: 401, challenge: 'Bearer error="invalid_token"' }], async (origin, seen) => {
        const credential = recordingCredential(() => bed.identityA);
        const body = new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode("once"));
            controller.close();
          },
        });
        const response = await make({ credential })(`${origin}/a`, {
          method: "POST",
          body,
          duplex: "half",
        } as never);
        expect(response.status).toBe(401);
        expect(seen()).toBe(1);
      });
    });
  });

  it("aborts a call the server holds, and refuses an aborted signal before asking for a token", async () => {
    const credential = recordingCredential(() => bed.identityA);
    const popFetch = make({ credential });
    const controller = new AbortController();
    const pending = popFetch(`${bed.server.origin}/hang`, { signal: controller.signal });
    await bed.server.waitForRequest("/hang");
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });

    const aborted = AbortSignal.abort();
    await expect(popFetch(`${bed.server.origin}/data`, { signal: aborted })).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(credential.calls).toHaveLength(1);
    expect(credential.calls[0]?.options?.signal).toBe(controller.signal);
  });

  it("refuses options without a credential or scopes", () => {
    expect(() => createPopFetch({ credential: {} as Credential, scopes })).toThrow(/credential/);
    expect(() => createPopFetch({ credential: recordingCredential(() => undefined), scopes: [] })).toThrow(
      /scopes/,
    );
  });
});
