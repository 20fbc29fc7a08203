// The inspector's limits and lifetime: a bounded log, a bounded number of pages, streams that end
// with the emulator, and a CLI process that exits promptly while a page is listening.
import { spawn } from "node:child_process";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { Exchange } from "../src/exchange";
import { FaultQueue } from "../src/faults";
import { IdentityRegistry } from "../src/identities";
import { type Emulator, startEmulator } from "../src/index";
import {
  INSPECTOR_FLOW_LIMIT,
  INSPECTOR_LOG_LIMIT,
  INSPECTOR_MAX_SUBSCRIBERS,
  Inspector,
} from "../src/inspector/inspector";
import { send, tempDir } from "./helpers";
import { EventReader } from "./inspector-helpers";

let signingKey: KeyObject;
beforeAll(() => {
  signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
});

function exchange(headers: Record<string, string>): Exchange {
  return {
    method: "GET",
    path: "/metadata/instance/compute",
    lowerPath: "/metadata/instance/compute",
    query: new URLSearchParams(),
    headers,
    body: Buffer.alloc(0),
    form: undefined,
    clientCertificate: undefined,
    socket: undefined as unknown as Exchange["socket"],
  };
}

async function pageToken(emu: Emulator): Promise<string> {
  const page = await send(String(emu.inspectorUrl), { ca: emu.caCertificatePem });
  return /name="inspector-token" content="([^"]+)"/.exec(page.body)?.[1] ?? "";
}

describe("inspector bounds", () => {
  it("keeps at most the last requests and flows, and forgets the tokens of dropped requests", () => {
    const inspector = new Inspector({
      now: () => 0,
      faults: new FaultQueue(),
      registry: new IdentityRegistry("t"),
    });
    const total = INSPECTOR_LOG_LIMIT * 3;
    for (let i = 0; i < total; i++) {
      inspector.observe({
        endpoint: "imdsToken",
        exchange: exchange({ "x-ms-client-request-id": `c${i % (INSPECTOR_FLOW_LIMIT * 2)}` }),
        reply: {
          status: 200,
          body: JSON.stringify({
            access_token: `e30.${Buffer.from(JSON.stringify({ uti: `u${i}` })).toString("base64url")}.c2ln`,
          }),
        },
        outcome: "answered",
        fault: undefined,
        durationMs: 1,
      });
    }
    const state = inspector as unknown as {
      entries: Array<{ id: number; flowId: number }>;
      tokens: Map<string, string>;
    };
    expect(state.entries.length).toBeLessThanOrEqual(INSPECTOR_LOG_LIMIT);
    expect(state.entries.at(-1)?.id).toBe(total);
    expect(new Set(state.entries.map((e) => e.flowId)).size).toBeLessThanOrEqual(INSPECTOR_FLOW_LIMIT);
    expect(state.tokens.size).toBeLessThanOrEqual(state.entries.length);
    expect(inspector.reveal("nope")).toBeUndefined();
  });

  it("serves a bounded number of pages and ends their streams when the emulator closes", async () => {
    const emu = await startEmulator({ signingKey, inspector: true });
    const token = await pageToken(emu);
    const url = `${new URL(String(emu.inspectorUrl)).origin}/_inspector/events?token=${token}`;
    const readers = await Promise.all(
      Array.from({ length: INSPECTOR_MAX_SUBSCRIBERS }, () => EventReader.open(url, emu.caCertificatePem)),
    );
    expect(readers.map((r) => r.response.statusCode)).toEqual(readers.map(() => 200));
    const refused = await send(url, { ca: emu.caCertificatePem });
    expect(refused.status).toBe(503);
    const ended = Promise.all(readers.map((r) => new Promise((resolve) => r.response.on("close", resolve))));
    await emu.close();
    await ended;
  });

  it("logs a reset and a hung request as such", async () => {
    const emu = await startEmulator({ signingKey, inspector: true });
    try {
      const token = await pageToken(emu);
      const reader = await EventReader.open(
        `${new URL(String(emu.inspectorUrl)).origin}/_inspector/events?token=${token}`,
        emu.caCertificatePem,
      );
      emu.injectFault("compute", { reset: true });
      await expect(
        send(`${emu.imdsEndpoint}/metadata/instance/compute?api-version=2021-02-01`, {
          headers: { Metadata: "true" },
        }),
      ).rejects.toThrow();
      const reset = await reader.next(
        (e) => e.event === "request" && (e.data as { outcome: string }).outcome === "reset",
      );
      expect(reset.data).toMatchObject({ endpoint: "compute", fault: { reset: true } });
      expect((reset.data as { status?: number }).status).toBeUndefined();
      emu.injectFault("compute", { hang: true });
      void send(`${emu.imdsEndpoint}/metadata/instance/compute?api-version=2021-02-01`, {
        headers: { Metadata: "true" },
      }).catch(() => undefined);
      const hung = await reader.next(
        (e) => e.event === "request" && (e.data as { outcome: string }).outcome === "hung",
      );
      expect(hung.data).toMatchObject({ endpoint: "compute", fault: { hang: true } });
      reader.stop();
    } finally {
      await emu.close();
    }
  });
});

describe("inspector in the CLI process", { timeout: 30_000 }, () => {
  it("is on by default, printed in --json, and a listening page does not keep the process alive on SIGTERM", async () => {
    const dir = tempDir();
    try {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "src/cli.ts", "--json", "--ca-file", `${dir}/ca.pem`],
        {
          cwd: fileURLToPath(new URL("..", import.meta.url)),
          env: {
            ...process.env,
            TSX_TSCONFIG_PATH: fileURLToPath(new URL("../../../tsconfig.json", import.meta.url)),
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      let stdout = "";
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (c: Buffer) => {
          stdout += c.toString();
          if (stdout.endsWith("\n")) resolve(stdout);
        });
        child.on("exit", (code) => reject(new Error(`CLI exited with ${code}`)));
      });
      const printed = JSON.parse(line) as { inspectorUrl?: string; authorityHost: string };
      expect(printed.inspectorUrl).toBe(`${printed.authorityHost}/_inspector`);
      const ca = readFileSync(`${dir}/ca.pem`, "utf8");
      const page = await send(String(printed.inspectorUrl), { ca });
      const token = /name="inspector-token" content="([^"]+)"/.exec(page.body)?.[1] ?? "";
      const reader = await EventReader.open(
        `${new URL(String(printed.inspectorUrl)).origin}/_inspector/events?token=${token}`,
        ca,
      );
      await reader.next((e) => e.event === "snapshot");
      const started = performance.now();
      child.kill("SIGTERM");
      expect(await exit).toBe(0);
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
