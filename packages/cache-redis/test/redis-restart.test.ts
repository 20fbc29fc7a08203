// Issue 16: the test's redis-server is SIGKILLed mid-run and started again; acquisitions never fail
// because of it, the outage is logged once, and the store shares tokens through Redis again after.
import type { LogLevel } from "@certbound/core";
import { type AcquiredToken, createTokenManager } from "@certbound/core/credential-kit";
import { createTestClock } from "@certbound/testing";
import { createClient } from "redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createRedisCacheStore } from "../src/index";
import { type RedisServer, startRedisServer } from "./redis-server";

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

const encryption = { keys: [{ id: "k1", key: Buffer.alloc(32, 3) }] };
const HOUR = 3600_000;
const req = (scope: string) => ({
  clientId: "c",
  authority: "https://login.example/t",
  scopes: [`api://${scope}/.default`],
});

it("keeps acquiring through a Redis kill and restart, then shares through Redis again", async () => {
  const lines: { level: LogLevel; message: string }[] = [];
  let backAgain!: () => void;
  const back = new Promise<void>((resolve) => {
    backAgain = resolve;
  });
  const logger = {
    level: "verbose" as const,
    log: (level: LogLevel, message: string) => {
      lines.push({ level, message });
      if (message.startsWith("Redis answers again")) backAgain();
    },
  };
  const client = createClient({ url: server.url, socket: { reconnectStrategy: () => 20 } });
  client.on("error", () => {});
  await client.connect();
  const store = createRedisCacheStore({
    client,
    encryption,
    logger,
    commandTimeoutMs: 100,
    probeIntervalMs: 20,
  });
  const clock = createTestClock();
  let requests = 0;
  const manager = createTokenManager({
    cache: store,
    clock,
    source: async (): Promise<AcquiredToken> => ({
      accessToken: `t-${++requests}`,
      tokenType: "Bearer",
      expiresOn: new Date(clock.now() + HOUR),
    }),
  });
  expect((await manager.acquireToken(req("a"))).accessToken).toBe("t-1");

  await server.kill();
  // Redis is gone: a new key comes from the identity provider, a known one from the process.
  const during = await Promise.all([manager.acquireToken(req("b")), manager.acquireToken(req("a"))]);
  expect(during.map((r) => [r.accessToken, r.metadata.tokenSource])).toEqual([
    ["t-2", "identity_provider"],
    ["t-1", "cache"],
  ]);
  expect(store.degraded).toBe(true);
  expect((await manager.acquireToken(req("c"))).accessToken).toBe("t-3");
  expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);

  await server.restart();
  await back;
  expect(store.degraded, JSON.stringify(lines)).toBe(false);
  // Shared again: another process's store reads what this one writes now.
  expect((await manager.acquireToken(req("d"))).accessToken).toBe("t-4");
  const other = createClient({ url: server.url });
  await other.connect();
  const reader = createRedisCacheStore({ client: other, encryption, lease: false });
  const writer = createRedisCacheStore({ client, encryption, lease: false });
  await writer.set("shared", "value", HOUR);
  expect(await reader.get("shared")).toBe("value");
  await Promise.all([store.close(), reader.close(), writer.close()]);
  other.destroy();
  client.destroy();
});
