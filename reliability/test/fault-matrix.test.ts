// The fault matrix (support/fault-matrix.ts) run against the emulator: every endpoint under every
// fault, over real sockets on 127.0.0.1, on the injected test clock. Each cell is one test that
// checks the outcome, every retry delay and the number of requests each endpoint received.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { HttpTransport } from "@certbound/core";
import { createAxiosTransport } from "@certbound/http-axios";
import { createTestClock } from "@certbound/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CellContext, runCell } from "./support/cell-runner";
import { type ColumnId, renderMatrix, TESTED_CELLS } from "./support/fault-matrix";
import { hangDriver } from "./support/hang-driver";
import { startWorld, type World } from "./support/world";

const DOC = fileURLToPath(new URL("../../docs/reliability.md", import.meta.url));
const START = "<!-- fault-matrix:start (generated from reliability/test/support/fault-matrix.ts) -->";
const END = "<!-- fault-matrix:end -->";

let world: World;
const contexts = new Map<string, CellContext>();
let axiosTransport: HttpTransport | undefined;

beforeAll(async () => {
  world = await startWorld();
  const transport = hangDriver(world.transport, world.transportClock, world.emu);
  // The same matrix runs on the second transport: its attempt timeouts on a clock of their own.
  const axiosClock = createTestClock({ now: Date.now(), autoAdvance: false });
  axiosTransport = createAxiosTransport({ clock: axiosClock });
  const axiosDriver = hangDriver(axiosTransport, axiosClock, world.emu);
  const clock = world.freshClock();
  const app = world.certClient({ transport });
  const popToken = await app.acquireTokenForClient({
    scopes: [`${world.emu.resourceUrl}/.default`],
    mtlsProofOfPossession: true,
  });
  app.close();
  const now = clock.now();
  const expired = world.appCa.issue({
    commonName: "reliability-expired-app",
    notBefore: new Date(now - 10 * 86400_000),
    notAfter: new Date(now - 86400_000),
  });
  const unregistered = world.appCa.issue({
    commonName: "reliability-unregistered-app",
    publicKey: world.msiKey.publicKey,
  });
  const spare = {
    expiredApp: { certificatePem: expired.certificatePem, privateKey: expired.privateKey },
    unregisteredApp: { certificatePem: unregistered.certificatePem, privateKey: world.msiKey.privateKey },
    stranger: world.foreignCa.issue({ commonName: "reliability-stranger" }),
  };
  contexts.set("undici", { world, transport, popToken, spare });
  contexts.set("axios", { world, transport: axiosDriver, popToken, spare });
});

afterAll(async () => {
  await axiosTransport?.close?.();
  await world?.close();
});

// undici runs every cell. axios runs the cells where the transport makes a difference (headers it
// hands over, bodies it reads or caps, timeouts, resets, TLS): the rest is the same client code
// reading the same status and body, and would double the file's time for nothing.
const TRANSPORT_SENSITIVE = new Set<ColumnId>([
  "429-retry-after-seconds",
  "429-retry-after-date",
  "503-retry-after",
  "503-once",
  "truncated-body",
  "empty-body",
  "body-over-cap",
  "hang",
  "hang-once",
  "reset",
  "reset-once",
  "tls-handshake",
  "mismatched-certificate",
]);
const CELLS_BY_TRANSPORT = {
  undici: TESTED_CELLS,
  axios: TESTED_CELLS.filter((cell) => TRANSPORT_SENSITIVE.has(cell.column.id)),
};

describe.each(["undici", "axios"] as const)("fault matrix (%s transport)", (transportName) => {
  it.each(
    CELLS_BY_TRANSPORT[transportName].map((cell) => [`${cell.target.id} x ${cell.column.id}`, cell] as const),
  )("%s", async (_name, cell) => {
    const ctx = contexts.get(transportName);
    if (!ctx) throw new Error("reliability: the matrix context was not set up");
    const observed = await runCell(cell, ctx);
    expect(observed).toEqual({ ...cell.expected, unboundedRequests: 0 });
  });
});

describe("docs/reliability.md", () => {
  it("holds exactly the matrix the tests run (RELIABILITY_WRITE_DOCS=1 rewrites it)", () => {
    const doc = readFileSync(DOC, "utf8");
    const start = doc.indexOf(START);
    const end = doc.indexOf(END);
    expect(start, `docs/reliability.md must contain the marker ${START}`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const rendered = `${START}\n${renderMatrix()}\n${END}`;
    if (process.env.RELIABILITY_WRITE_DOCS === "1") {
      writeFileSync(DOC, `${doc.slice(0, start)}${rendered}${doc.slice(end + END.length)}`);
      return;
    }
    expect(doc.slice(start, end + END.length)).toBe(rendered);
  });
});
