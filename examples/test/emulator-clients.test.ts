// The emulator README's client snippets (examples/src/emulator-clients.ts) run as shown: every flow
// gets its token from the emulator's hosts, none from the real Entra ID.
import { expect, it } from "vitest";
import { runEmulatorClients } from "../src/emulator-clients";

it("the emulator README's snippets: PoP and Bearer for both clients, then a resource call", async () => {
  const run = await runEmulatorClients();
  const { authorityHost, mtlsAuthorityHost } = run.hosts;
  expect(run.pop).toMatchObject({ tokenType: "mtls_pop" });
  expect(run.pop.metadata.tokenEndpoint).toMatch(new RegExp(`^${mtlsAuthorityHost}/`));
  expect(run.bearer).toMatchObject({ tokenType: "Bearer" });
  expect(run.bearer.metadata.tokenEndpoint).toMatch(new RegExp(`^${authorityHost}/`));
  expect(run.miPop).toMatchObject({ tokenType: "mtls_pop" });
  expect(run.miPop.metadata.tokenEndpoint).toMatch(new RegExp(`^${mtlsAuthorityHost}/`));
  expect(run.miBearer).toMatchObject({ tokenType: "Bearer" });
  expect(run.resourceStatus).toBe(200);
  expect(run.resourceAnswer).toMatchObject({
    tokenType: "mtls_pop",
    clientCertificateX5tS256: run.pop.bindingCertificate?.x5tS256,
  });
});
