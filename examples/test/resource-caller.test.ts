// ResourceCaller against the emulator's protected resource, which echoes the certificate it saw.
import { MtlsPopTokenAcquirer, ResourceCaller, type TokenResult } from "@certbound/core";
import { createCertificateAuthority } from "@certbound/core/credential-kit";
import { createConfidentialClient } from "@certbound/credential-cert";
import { type Emulator, startEmulator } from "@certbound/emulator";
import { createUndiciTransport, type UndiciTransport } from "@certbound/http-undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let emu: Emulator;
let transport: UndiciTransport;
let pop: TokenResult;
let bearer: TokenResult;
const ca = createCertificateAuthority({ commonName: "resource-caller tests" });
const appCert = ca.issue({ commonName: "caller-app", keyType: "rsa" });

beforeAll(async () => {
  emu = await startEmulator();
  transport = createUndiciTransport({ ca: emu.caCertificatePem });
  const clientId = "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b";
  emu.registerConfidentialClient({ clientId, certificatePem: appCert.certificatePem });
  const app = createConfidentialClient({
    clientId,
    authority: `https://login.microsoftonline.com/${emu.tenantId}`,
    certificate: { certificatePem: appCert.certificatePem, privateKeyPem: appCert.keyPem },
    authorityHost: emu.authorityHost,
    mtlsAuthorityHost: emu.mtlsAuthorityHost,
    transport,
  });
  pop = await new MtlsPopTokenAcquirer(app).acquireToken(`${emu.resourceUrl}/.default`);
  bearer = await app.acquireTokenForClient({ scopes: [`${emu.resourceUrl}/.default`] });
  app.close();
});
/** The typed error a call fails with; fails the test if the call succeeds. */
async function failure(call: Promise<unknown>): Promise<Error & { code: string; status?: number }> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error as Error & { code: string; status?: number },
  );
  if (!outcome) throw new Error("expected the call to fail");
  return outcome;
}

afterAll(async () => {
  await transport?.close();
  await emu?.close();
});

describe("ResourceCaller", () => {
  it("presents exactly the binding certificate", async () => {
    const caller = new ResourceCaller({ transport });
    const response = await caller.call(pop, `${emu.resourceUrl}/echo`);
    expect(response.status).toBe(200);
    const echo = JSON.parse(response.body) as { clientCertificateX5tS256: string; tokenType: string };
    expect(echo.clientCertificateX5tS256).toBe(pop.bindingCertificate?.x5tS256);
    expect(echo.clientCertificateX5tS256).toBe(appCert.x5tS256);
    expect(echo.tokenType).toBe("mtls_pop");
  });

  it("sends Bearer by default and the mtls_pop scheme when asked", async () => {
    const schemes: string[] = [];
    const recording = {
      send: (request: Parameters<UndiciTransport["send"]>[0]) => {
        schemes.push(request.headers.authorization?.split(" ")[0] ?? "none");
        return transport.send(request);
      },
    };
    expect(
      (await new ResourceCaller({ transport: recording }).call(pop, `${emu.resourceUrl}/echo`)).status,
    ).toBe(200);
    const popScheme = new ResourceCaller({ transport: recording, scheme: "mtls_pop" });
    expect((await popScheme.call(pop, `${emu.resourceUrl}/echo`)).status).toBe(200);
    expect(schemes).toEqual(["Bearer", "mtls_pop"]);
    // The emulator records the header redacted: the token never reaches its statistics.
    expect(
      emu
        .stats()
        .recent.filter((r) => r.endpoint === "resource")
        .at(-1)?.headers.authorization,
    ).toBe("<redacted>");
  });

  it("turns a call with another certificate into binding_certificate_mismatch, naming both thumbprints", async () => {
    const other = ca.issue({ commonName: "someone else" });
    const error = await failure(
      new ResourceCaller({ transport }).call(pop, `${emu.resourceUrl}/echo`, { clientIdentity: other }),
    );
    expect(error.code).toBe("binding_certificate_mismatch");
    expect(error.status).toBe(401);
    expect(error.message).toContain(other.x5tS256);
    expect(error.message).toContain(appCert.x5tS256);
    expect(error.message).toContain("result.bindingCertificate");
    expect(error.message).not.toContain(pop.accessToken);
  });

  it("explains a Bearer token sent without any client certificate", async () => {
    const error = await failure(new ResourceCaller({ transport }).call(bearer, `${emu.resourceUrl}/echo`));
    expect(error.code).toBe("resource_unauthorized");
    expect(error.message).toContain("no TLS client certificate was presented");
  });

  it("refuses a PoP result without its certificate before any request", async () => {
    const before = emu.stats().requests.resource;
    await expect(
      new ResourceCaller({ transport }).call(
        { ...pop, bindingCertificate: undefined },
        `${emu.resourceUrl}/echo`,
      ),
    ).rejects.toMatchObject({ code: "binding_certificate_missing" });
    expect(emu.stats().requests.resource).toBe(before);
  });
});
