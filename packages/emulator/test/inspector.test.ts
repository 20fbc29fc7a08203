import { spawnSync } from "node:child_process";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { request as httpsRequest } from "node:https";
import { fileURLToPath } from "node:url";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/core/credential-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCliArgs } from "../src/cli-options";
import { type Emulator, startEmulator } from "../src/index";
import type { InspectorEntry } from "../src/inspector/entry";
import { isLoopback } from "../src/inspector/http";
import { send } from "./helpers";
import { EventReader, imdsV2Flow, popFlow, type ServerEvent } from "./inspector-helpers";

let emu: Emulator;
let signingKey: KeyObject;
let app: IssuedCertificate;
let other: IssuedCertificate;
let token: string;
let origin: string;
const APP = "inspector-app";
const inliner = fileURLToPath(new URL("../scripts/inline-inspector-assets.mjs", import.meta.url));

beforeAll(async () => {
  signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  emu = await startEmulator({ signingKey, inspector: true });
  app = createCertificateAuthority().issue({ commonName: "inspector-app" });
  other = createCertificateAuthority().issue({ commonName: "someone-else" });
  emu.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
  origin = new URL(String(emu.inspectorUrl)).origin;
  const page = await send(String(emu.inspectorUrl), { ca: emu.caCertificatePem });
  token = /name="inspector-token" content="([^"]+)"/.exec(page.body)?.[1] ?? "";
});
afterAll(async () => {
  await emu?.close();
});

const api = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  send(`${origin}/_inspector/${path}`, {
    method: body === undefined ? "GET" : "POST",
    ca: emu.caCertificatePem,
    headers: { "x-inspector-token": token, "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const events = () =>
  EventReader.open(`${origin}/_inspector/events?token=${encodeURIComponent(token)}`, emu.caCertificatePem);

const isRequest =
  (match: (e: InspectorEntry) => boolean) =>
  (e: ServerEvent): boolean =>
    e.event === "request" && match(e.data as InspectorEntry);

describe("inspector page", () => {
  it("is off by default for the library, on for the CLI unless --no-inspector", async () => {
    const plain = await startEmulator({ signingKey });
    try {
      expect(plain.inspectorUrl).toBeUndefined();
      const r = await send(`${plain.authorityHost}/_inspector`, { ca: plain.caCertificatePem });
      expect(r.status).toBe(404);
    } finally {
      await plain.close();
    }
    expect(parseCliArgs([]).emulator.inspector).toBe(true);
    expect(parseCliArgs(["--no-inspector"]).emulator.inspector).toBe(false);
  });

  it("is served on the authority origin with its per-run token, a strict CSP and no framing", async () => {
    expect(emu.inspectorUrl).toBe(`${emu.authorityHost}/_inspector`);
    const page = await send(String(emu.inspectorUrl), { ca: emu.caCertificatePem });
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const script = await send(`${origin}/_inspector/inspector.js`, { ca: emu.caCertificatePem });
    expect(script.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(script.body).toContain("new EventSource");
    const style = await send(`${origin}/_inspector/inspector.css`, { ca: emu.caCertificatePem });
    expect(style.headers["content-type"]).toMatch(/^text\/css/);
    expect(style.body).toContain(".binding.mismatch");
    // No framework fetched at run time: the page loads only its own two files (and no favicon).
    expect(page.body.match(/(?:src|href)="([^"]+)"/g)).toEqual([
      'href="data:,"',
      'href="/_inspector/inspector.css"',
      'src="/_inspector/inspector.js"',
    ]);
  });

  it("refuses the API without the token, from another origin or site, and under a foreign Host name", async () => {
    expect((await api("api/state", undefined, { "x-inspector-token": "" })).status).toBe(403);
    expect((await api("api/state", undefined, { "x-inspector-token": `${token.slice(1)}x` })).status).toBe(
      403,
    );
    const foreign = await api(
      "api/faults",
      { endpoint: "resource", fault: { status: 500 } },
      { origin: "https://evil.example" },
    );
    expect(foreign.status).toBe(403);
    const crossSite = await api("api/faults/clear", {}, { "sec-fetch-site": "cross-site" });
    expect(crossSite.status).toBe(403);
    // A form post (the one kind a foreign page sends without a preflight) is refused even with the token.
    const form = await api("api/faults/clear", {}, { "content-type": "text/plain" });
    expect(form.status).toBe(415);
    // DNS rebinding: a foreign name resolved to 127.0.0.1 reaches the socket but not the inspector.
    const rebound = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpsRequest(
        `${origin}/_inspector/api/state`,
        {
          ca: emu.caCertificatePem,
          servername: "localhost",
          agent: false,
          headers: { host: `evil.example:${new URL(origin).port}`, "x-inspector-token": token },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(rebound).toBe(421);
    const noTokenStream = await send(`${origin}/_inspector/events`, { ca: emu.caCertificatePem });
    expect(noTokenStream.status).toBe(403);
    expect(emu.stats().requests.resource).toBe(0);
    expect((await api("api/state")).json.faults).toEqual([]);
  });

  it("ships the page, script and style exactly as written in src/inspector/assets (generated file in sync)", () => {
    const check = spawnSync(process.execPath, [inliner, "--check"], { encoding: "utf8" });
    expect(check.status, check.stderr).toBe(0);
  });

  it("answers only loopback peers", () => {
    for (const a of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
      expect(isLoopback(a), a).toBe(true);
    for (const a of ["10.0.0.1", "192.168.1.2", "::ffff:10.0.0.1", "fe80::1", "0.0.0.0", "", undefined]) {
      expect(isLoopback(a), String(a)).toBe(false);
    }
  });
});

describe("live request log (server-sent events)", () => {
  it("streams each request with status, duration and client certificate, grouped into flows, without tokens", async () => {
    const reader = await events();
    try {
      const snapshot = await reader.next((e) => e.event === "snapshot");
      expect(snapshot.data).toMatchObject({
        entries: expect.any(Array),
        endpoints: expect.arrayContaining(["mtlsToken"]),
      });

      const good = await popFlow(emu, { clientId: APP, tokenIdentity: app, correlationId: "flow-good" });
      expect(good.resource?.status).toBe(200);
      const bad = await popFlow(emu, {
        clientId: APP,
        tokenIdentity: app,
        resourceIdentity: other,
        correlationId: "flow-bad",
      });
      expect(bad.resource?.status).toBe(401);

      const goodToken = (await reader.next(isRequest((e) => e.correlationId === "flow-good")))
        .data as InspectorEntry;
      expect(goodToken).toMatchObject({
        endpoint: "mtlsToken",
        method: "POST",
        status: 200,
        outcome: "answered",
        clientCertificate: { x5tS256: app.x5tS256 },
        token: { boundTo: app.x5tS256, claims: { appid: APP } },
      });
      expect(goodToken.durationMs).toBeGreaterThanOrEqual(0);
      const goodResource = (
        await reader.next(isRequest((e) => e.endpoint === "resource" && e.status === 200))
      ).data as InspectorEntry;
      // The resource call carries no correlation id: it joins the flow that minted its token.
      expect(goodResource.flowId).toBe(goodToken.flowId);
      expect(goodResource.binding).toEqual({ boundTo: app.x5tS256, presented: app.x5tS256, match: true });

      const badToken = (await reader.next(isRequest((e) => e.correlationId === "flow-bad")))
        .data as InspectorEntry;
      const badResource = (await reader.next(isRequest((e) => e.endpoint === "resource" && e.status === 401)))
        .data as InspectorEntry;
      expect(badToken.flowId).not.toBe(goodToken.flowId);
      expect(badResource.flowId).toBe(badToken.flowId);
      expect(badResource.binding).toMatchObject({
        boundTo: app.x5tS256,
        presented: other.x5tS256,
        match: false,
        reason: "certificate_mismatch",
      });
      expect(badResource.clientCertificate?.x5tS256).toBe(other.x5tS256);

      // Nothing secret on the wire to the page: no compact token, no header values.
      for (const sent of [good.token.json.access_token, bad.token.json.access_token]) {
        expect(reader.raw).not.toContain(String(sent));
        expect(reader.raw).not.toContain(String(sent).split(".")[2]);
      }
      // ... until the page asks to reveal one.
      const revealed = await api("api/reveal", { ref: goodToken.token?.ref });
      expect(revealed.json.token).toBe(good.token.json.access_token);
      expect((await api("api/reveal", { ref: "nope" })).status).toBe(404);
    } finally {
      reader.stop();
    }
  });

  it("groups a managed identity's IMDS v2 flow: getplatformmetadata -> issuecredential -> token -> resource", async () => {
    const reader = await events();
    try {
      const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const flow = await imdsV2Flow(emu, keys, "vm-flow");
      expect(flow.resource.status, flow.resource.body).toBe(200);
      const resource = (
        await reader.next(isRequest((e) => e.endpoint === "resource" && e.path === "/vm/data"))
      ).data as InspectorEntry;
      const steps = reader.events
        .filter(isRequest((e) => e.flowId === resource.flowId))
        .map((e) => (e.data as InspectorEntry).endpoint);
      expect(steps).toEqual(["getPlatformMetadata", "issueCredential", "mtlsToken", "resource"]);
      const issued = reader.events
        .map((e) => e.data as InspectorEntry)
        .find((e) => e?.endpoint === "issueCredential" && e.flowId === resource.flowId);
      expect(issued?.issuedCertificate?.x5tS256).toBe(resource.binding?.presented);
      expect(resource.binding?.match).toBe(true);
    } finally {
      reader.stop();
    }
  });
});

describe("controls", () => {
  it("injects a fault on an endpoint, marks the request that got it, and clears faults", async () => {
    const reader = await events();
    try {
      const armed = await api("api/faults", { endpoint: "mtlsToken", fault: { status: "503", count: 1 } });
      expect(armed.status, armed.body).toBe(200);
      expect(armed.json.faults).toEqual([
        { endpoint: "mtlsToken", fault: { status: 503, count: 1 }, remaining: 1 },
      ]);
      await reader.next((e) => e.event === "state" && (e.data as { faults: unknown[] }).faults.length === 1);

      const flow = await popFlow(emu, { clientId: APP, tokenIdentity: app, correlationId: "faulted" });
      expect(flow.token.status).toBe(503);
      const entry = (await reader.next(isRequest((e) => e.correlationId === "faulted")))
        .data as InspectorEntry;
      expect(entry).toMatchObject({
        status: 503,
        fault: { status: 503 },
        error: { code: expect.any(String) },
      });

      await api("api/faults", { endpoint: "resource", fault: { hang: true, count: 5 } });
      const cleared = await api("api/faults/clear", {});
      expect(cleared.json.faults).toEqual([]);
      expect((await popFlow(emu, { clientId: APP, tokenIdentity: app })).resource?.status).toBe(200);

      const badEndpoint = await api("api/faults", { endpoint: "nowhere", fault: { status: 500 } });
      expect(badEndpoint.status).toBe(400);
      const badFault = await api("api/faults", { endpoint: "token", fault: { status: 999 } });
      expect(badFault.status).toBe(400);
      expect(badFault.json.error).toContain("fault.status");
    } finally {
      reader.stop();
    }
  });

  it("registers a confidential client from a pasted PEM, and lists identities and clients", async () => {
    const pasted = createCertificateAuthority().issue({ commonName: "pasted" });
    const r = await api("api/clients", { clientId: "pasted-app", certificatePem: pasted.certificatePem });
    expect(r.status, r.body).toBe(200);
    const state = (await api("api/state")).json as {
      clients: Array<{ clientId: string; certificates: Array<{ x5tS256: string }> }>;
      managedIdentities: Array<{ kind: string; clientId: string }>;
    };
    expect(state.clients.find((c) => c.clientId === "pasted-app")?.certificates).toEqual([
      expect.objectContaining({ x5tS256: pasted.x5tS256 }),
    ]);
    expect(state.managedIdentities[0]).toMatchObject({
      kind: "system",
      clientId: emu.systemAssignedIdentity.clientId,
    });
    const flow = await popFlow(emu, { clientId: "pasted-app", tokenIdentity: pasted });
    expect(flow.resource?.status).toBe(200);

    const notPem = await api("api/clients", { clientId: "x", certificatePem: "hello" });
    expect(notPem.status, notPem.body).toBe(400);
    expect(JSON.stringify(state)).not.toContain("PRIVATE KEY");
  });
});
