import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLog } from "@certbound/core/credential-kit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { detectRegion, IMDS_COMPUTE_PATH } from "../src/index";
import { fetchTransport } from "./fetch-transport";

// A local stand-in for IMDS' instance metadata: answers what the test sets.
let server: Server;
let imdsEndpoint: string;
let answer: { status: number; body: string };
let seen: IncomingMessage[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  imdsEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
  answer = { status: 200, body: JSON.stringify({ location: "westus3", name: "vm1" }) };
});

const detect = (env: Record<string, string | undefined>, endpoint = imdsEndpoint) =>
  detectRegion({ env, imdsEndpoint: endpoint, transport: fetchTransport() });

// Follows MSAL.NET tests/Microsoft.Identity.Test.Unit/CoreTests/RegionDiscoveryProviderTests.cs
// (auto-detection with AzureRegion = TryAutoDetect) and Instance/Region/RegionManager.cs.
describe("detectRegion", () => {
  it("never reads MSAL_FORCE_REGION: it only applies when the app configured no region", async () => {
    expect(await detect({ MSAL_FORCE_REGION: "eastus2", REGION_NAME: "westus" })).toEqual({
      region: "westus",
      source: "REGION_NAME",
    });
    expect(await detect({ MSAL_FORCE_REGION: "eastus2" })).toEqual({ region: "westus3", source: "imds" });
  });

  // SuccessfulResponseFromEnvironmentVariableAsync, RegionInEnvVariableIsProperlyTransformedAsync
  it.each([
    ["westeurope", "westeurope"],
    ["WestEurope", "westeurope"],
    ["Region With Spaces", "regionwithspaces"],
    ["West US 2", "westus2"],
    [" eastus ", "eastus"],
  ])("takes REGION_NAME %j as %j, without calling IMDS", async (value, region) => {
    expect(await detect({ REGION_NAME: value })).toEqual({ region, source: "REGION_NAME" });
    expect(seen).toHaveLength(0);
  });

  // RegionWithSpecialCharactersFromEnvironmentVariableIsRejectedAsync, InvalidRegionEnvVariableAsync
  it.each(["fake.com/x", "invalid`region", "north-europe", "eastus\n", "east\tus", "eastus\u00b2"])(
    "ignores the invalid REGION_NAME %j and asks IMDS",
    async (value) => {
      const logged: string[] = [];
      const detected = await detectRegion({
        env: { REGION_NAME: value },
        imdsEndpoint,
        transport: fetchTransport(),
        log: createLog({ level: "verbose", log: (_level, message) => logged.push(message) }),
      });
      expect(detected).toEqual({ region: "westus3", source: "imds" });
      expect(seen).toHaveLength(1);
      expect(logged.join()).toMatch(/ignoring REGION_NAME/);
    },
  );

  it("treats an empty REGION_NAME as not set", async () => {
    expect(await detect({ REGION_NAME: "" })).toEqual({ region: "westus3", source: "imds" });
  });

  it("then asks IMDS' compute metadata with Metadata: true", async () => {
    expect(await detect({})).toEqual({ region: "westus3", source: "imds" });
    expect(seen).toHaveLength(1);
    expect(`${seen[0]?.url}`).toBe(IMDS_COMPUTE_PATH);
    expect(IMDS_COMPUTE_PATH).toBe("/metadata/instance/compute?api-version=2021-02-01");
    expect(seen[0]?.headers.metadata).toBe("true");
    expect(seen[0]?.method).toBe("GET");
  });

  // InvalidImdsAsync, ResponseMissingRegionFromLocalImdsAsync, ResponseWithUnusableBodyFromLocalImdsAsync,
  // ErrorResponseFromLocalImdsAsync
  it.each([
    ["an invalid location", 200, JSON.stringify({ location: "west us 3" })],
    ["a location with a backtick", 200, JSON.stringify({ location: "invalid`region" })],
    ["a location that is a host", 200, JSON.stringify({ location: "evil.example/x" })],
    ["no location", 200, JSON.stringify({ name: "vm1" })],
    ["a null location", 200, JSON.stringify({ location: null })],
    ["a 404", 404, JSON.stringify({ error: "not found" })],
    ["an error status", 500, JSON.stringify({ error: "boom" })],
    ["a body that is not JSON", 200, "<html>"],
  ])("falls back to the global host on %s", async (_name, status, body) => {
    answer = { status, body };
    expect(await detect({})).toBeUndefined();
    expect(seen).toHaveLength(1);
  });

  it("falls back to the global host when IMDS is unreachable", async () => {
    // A port that was just released: nothing listens there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await detect({}, `http://127.0.0.1:${port}`)).toBeUndefined();
  });
});
