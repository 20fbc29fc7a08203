// The binding-certificate policy on Azure Core's own request objects (createPipelineRequest and
// createHttpHeaders, as the SDK makes them): which tlsSettings object each attempt leaves with.
// The SDK's Node HTTP client keys its https agents by that object's identity, so identity is what
// these tests check; secret-client.e2e.test.ts counts the resulting TLS handshakes.

import {
  createHttpHeaders,
  createPipelineRequest,
  type PipelineRequest,
  type TlsSettings,
} from "@azure/core-rest-pipeline";
import type { Credential, TokenResult } from "@certbound/core";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/core/credential-kit";
import { describe, expect, it } from "vitest";
import { createBindingCertificatePolicy, createCertboundTokenCredential } from "../src/index";

const ca = createCertificateAuthority({ commonName: "policy unit CA" });
const certA = ca.issue({ commonName: "a" });
const certB = ca.issue({ commonName: "b" });

/** A credential that binds each scope's token to the certificate `bindings` names (Bearer when none). */
function adapterFor(bindings: Record<string, IssuedCertificate | undefined>, pop = true) {
  let n = 0;
  const credential: Credential = {
    async getToken(scopes) {
      const c = bindings[scopes[0] as string];
      const payload = c ? { cnf: { "x5t#S256": c.x5tS256 }, n: ++n } : { n: ++n };
      const result: TokenResult = {
        accessToken: `e30.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.sig`,
        tokenType: c ? "mtls_pop" : "Bearer",
        expiresOn: new Date(2_000_000_000_000),
        scopes,
        bindingCertificate: c && {
          certificatePem: c.certificatePem,
          privateKey: c.privateKey,
          x5tS256: c.x5tS256,
          notAfter: c.notAfter,
        },
        metadata: { tokenSource: "identity_provider", correlationId: "c", durationMs: 0 },
      };
      return result;
    },
  };
  return createCertboundTokenCredential({ credential, mtlsProofOfPossession: pop });
}

function request(token: string | undefined, tlsSettings?: TlsSettings): PipelineRequest {
  const r = createPipelineRequest({
    url: "https://vault.example/secrets/s?api-version=7.5",
    headers: createHttpHeaders(token ? { authorization: `Bearer ${token}` } : {}),
  });
  if (tlsSettings) r.tlsSettings = tlsSettings;
  return r;
}

/** Runs the policy once; returns the tlsSettings the request left with. */
async function send(policy: ReturnType<typeof createBindingCertificatePolicy>, r: PipelineRequest) {
  let sent: TlsSettings | undefined;
  await policy.sendRequest(r, async (req) => {
    sent = req.tlsSettings;
    return { request: req, status: 200, headers: createHttpHeaders() };
  });
  return sent;
}

describe("createBindingCertificatePolicy", () => {
  it("presents each token's own certificate, through one tlsSettings object per certificate", async () => {
    const credential = adapterFor({ "a/.default": certA, "b/.default": certB });
    const policy = createBindingCertificatePolicy({ credential });
    const tokenA = (await credential.getToken("a/.default"))?.token as string;
    const tokenB = (await credential.getToken("b/.default"))?.token as string;

    const a1 = await send(policy, request(tokenA));
    const b1 = await send(policy, request(tokenB));
    const a2 = await send(policy, request(tokenA));
    expect(a1?.cert).toBe(certA.certificatePem);
    expect(b1?.cert).toBe(certB.certificatePem);
    expect(a1).toBe(a2);
    expect(a1).not.toBe(b1);
    expect(typeof a1?.key).toBe("string");
  });

  it("keeps the client's TLS settings (its CA) under the certificate, one object per (settings, certificate)", async () => {
    const credential = adapterFor({ "a/.default": certA });
    const policy = createBindingCertificatePolicy({ credential });
    const token = (await credential.getToken("a/.default"))?.token as string;
    const clientSettings: TlsSettings = { ca: "CA PEM", pfx: "dropped", passphrase: "dropped" };
    const first = await send(policy, request(token, clientSettings));
    expect(first).toMatchObject({ ca: "CA PEM", cert: certA.certificatePem });
    expect(first).not.toHaveProperty("pfx");
    expect(first).not.toHaveProperty("passphrase");
    expect(await send(policy, request(token, clientSettings))).toBe(first);
    const otherSettings: TlsSettings = { ca: "OTHER CA" };
    expect((await send(policy, request(token, otherSettings)))?.ca).toBe("OTHER CA");
  });

  it("a retry whose token changed (Bearer now, or none) goes back to the client's own settings", async () => {
    const credential = adapterFor({ "a/.default": certA, "bearer/.default": undefined }, true);
    const bearerAdapter = adapterFor({ "bearer/.default": undefined }, false);
    const policy = createBindingCertificatePolicy({ credential });
    const popToken = (await credential.getToken("a/.default"))?.token as string;
    const clientSettings: TlsSettings = { ca: "CA PEM" };
    const r = request(popToken, clientSettings);
    expect((await send(policy, r))?.cert).toBe(certA.certificatePem);
    // Same request object, next attempt: the authentication policy removed the token.
    r.headers.delete("authorization");
    expect(await send(policy, r)).toBe(clientSettings);
    // And a token this policy's credential never handed out gets no certificate either.
    const foreign = (await bearerAdapter.getToken("bearer/.default"))?.token as string;
    r.headers.set("authorization", `Bearer ${foreign}`);
    expect(await send(policy, r)).toBe(clientSettings);
    const bare = request(popToken);
    await send(policy, bare);
    bare.headers.delete("authorization");
    expect(await send(policy, bare)).toBeUndefined();
  });

  it("a hostile 401 that echoes the token, with CR/LF, never puts either in the error", async () => {
    const foreignAdapter = adapterFor({ "a/.default": certA });
    const policy = createBindingCertificatePolicy({ credential: adapterFor({}) });
    // A token the policy's credential never handed out: the refusal is explained, not trusted.
    const token = (await foreignAdapter.getToken("a/.default"))?.token as string;
    const error = await policy
      .sendRequest(request(token), async (req) => ({
        request: req,
        status: 401,
        headers: createHttpHeaders({
          "www-authenticate": `Bearer error="invalid_token", error_description="bad ${token}\r\nSet-Cookie: x=1 \u202e"`,
        }),
      }))
      .then(
        () => {
          throw new Error("expected the policy to refuse");
        },
        (e: unknown) => e as Error & { code?: string },
      );
    expect(error.code).toBe("binding_certificate_missing");
    expect(error.message).not.toContain(token);
    expect(error.message).not.toMatch(/[\r\n\u202e]/);
    expect(error.message).toContain("[redacted]");
  });

  it("a 401 that is not invalid_token, or for a Bearer token, is left to the SDK", async () => {
    const credential = adapterFor({ "a/.default": certA, "b/.default": undefined });
    const policy = createBindingCertificatePolicy({ credential });
    const pop = (await credential.getToken("a/.default"))?.token as string;
    const answer401 = (challenge: string) => async (req: PipelineRequest) => ({
      request: req,
      status: 401,
      headers: createHttpHeaders({ "www-authenticate": challenge }),
    });
    const cae = await policy.sendRequest(
      request(pop),
      answer401('Bearer error="insufficient_claims", claims="e30="'),
    );
    expect(cae.status).toBe(401);
    // invalid_token for a PoP token that went with its own certificate: the cause is elsewhere.
    const expired = await policy.sendRequest(
      request(pop),
      answer401('Bearer error="invalid_token", error_description="expired"'),
    );
    expect(expired.status).toBe(401);
    const bearerAdapter = adapterFor({ "b/.default": undefined }, false);
    const bearerPolicy = createBindingCertificatePolicy({ credential: bearerAdapter });
    const bearer = (await bearerAdapter.getToken("b/.default"))?.token as string;
    const r = await bearerPolicy.sendRequest(request(bearer), answer401('Bearer error="invalid_token"'));
    expect(r.status).toBe(401);
  });

  it("refuses a credential that is not the adapter's", () => {
    expect(() =>
      createBindingCertificatePolicy({ credential: { getToken: async () => null } as never }),
    ).toThrow(/createCertboundTokenCredential/);
  });
});
