import { expect, it } from "vitest";
import { runCustomCredentialExample } from "../src/custom-credential";

it("custom-credential: 101 acquisitions, one issuer call, the last one from the cache", async () => {
  const { results, issued } = await runCustomCredentialExample();
  expect(issued).toBe(1);
  expect(results).toHaveLength(101);
  expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
  expect(results.at(-1)?.metadata.tokenSource).toBe("cache");
  expect(results[0]?.metadata.tokenSource).toBe("identity_provider");
});
