import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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

describe("detectRegion", () => {
  it("takes MSAL_FORCE_REGION first, without calling IMDS", async () => {
    expect(await detect({ MSAL_FORCE_REGION: "eastus2", REGION_NAME: "westus" })).toEqual({
      region: "eastus2",
      source: "MSAL_FORCE_REGION",
    });
    expect(seen).toHaveLength(0);
  });

  it("then REGION_NAME", async () => {
    expect(await detect({ REGION_NAME: "WestEurope" })).toEqual({
      region: "westeurope",
      source: "REGION_NAME",
    });
    expect(seen).toHaveLength(0);
  });

  it("skips an invalid env value and asks the next source", async () => {
    expect(await detect({ MSAL_FORCE_REGION: "west us", REGION_NAME: "north-europe" })).toEqual({
      region: "westus3",
      source: "imds",
    });
  });

  it("then asks IMDS' compute metadata with Metadata: true", async () => {
    expect(await detect({})).toEqual({ region: "westus3", source: "imds" });
    expect(seen).toHaveLength(1);
    expect(`${seen[0]?.url}`).toBe(IMDS_COMPUTE_PATH);
    expect(IMDS_COMPUTE_PATH).toBe("/metadata/instance/compute?api-version=2021-02-01");
    expect(seen[0]?.headers.metadata).toBe("true");
    expect(seen[0]?.method).toBe("GET");
  });

  it.each([
    ["an invalid location", 200, JSON.stringify({ location: "west us 3" })],
    ["no location", 200, JSON.stringify({ name: "vm1" })],
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
