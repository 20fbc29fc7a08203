// Issue 16: the store on a local 3-node Redis Cluster (3 masters, no replicas): entries, leases and
// notifications work across nodes because the keys of one entry share a hash slot.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCluster } from "redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  createRedisCacheStore,
  type RedisCacheStore,
  type RedisClientLike,
  redisClusterClient,
} from "../src/index";
import { countingClient } from "./counting-client";
import { type RedisServer, startRedisServer } from "./redis-server";

let dir: string;
let nodes: RedisServer[] = [];
let cluster: ReturnType<typeof createCluster>;
const stores: RedisCacheStore[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "certbound-redis-cluster-"));
  nodes = await Promise.all(
    [0, 1, 2].map((i) =>
      startRedisServer(["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${i}.conf`], dir),
    ),
  );
  const create = spawnSync(
    "redis-cli",
    [
      "--cluster",
      "create",
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ],
    { encoding: "utf8" },
  );
  if (create.status !== 0)
    throw new Error(`redis-cli --cluster create failed:\n${create.stdout}\n${create.stderr}`);
  // Every node must see the whole cluster (all slots served) before a client connects. Asked with
  // redis-cli, a bounded number of times: each answer takes a process start, no timer.
  for (let attempt = 0; ; attempt++) {
    const states = nodes.map(
      (n) => spawnSync("redis-cli", ["-p", String(n.port), "cluster", "info"], { encoding: "utf8" }).stdout,
    );
    if (states.every((s) => s.includes("cluster_state:ok"))) break;
    if (attempt > 500) throw new Error(`the cluster did not come up:\n${states.join("\n")}`);
  }
  cluster = createCluster({ rootNodes: nodes.map((n) => ({ url: n.url })) });
  cluster.on("error", () => {});
  await cluster.connect();
}, 60_000);
afterAll(async () => {
  for (const store of stores) await store.close();
  cluster?.destroy();
  await Promise.all(nodes.map((n) => n.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const encryption = { keys: [{ id: "k1", key: Buffer.alloc(32, 6) }] };
const warnings: string[] = [];
const logger = {
  level: "warn" as const,
  log: (_level: string, message: string) => warnings.push(message),
};
const store = (client: RedisClientLike = redisClusterClient(cluster)) => {
  const s = createRedisCacheStore({ client, encryption, prefix: "cl", logger });
  stores.push(s);
  return s;
};

it("shares entries across processes, with every key of one entry in one slot, over all 3 nodes", async () => {
  const writer = store();
  const reader = store();
  const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`);
  for (const key of keys) await writer.set(key, `value-${key}`, 60_000);
  for (const key of keys) expect(await reader.get(key)).toBe(`value-${key}`);
  expect(writer.degraded || reader.degraded, warnings.join("; ")).toBe(false);
  // The entries landed on every node (30 keyed-hash names spread over the slots).
  const perNode = await Promise.all(
    cluster.masters.map(async (m) => {
      const client = await cluster.nodeClient(m);
      return ((await client.sendCommand(["DBSIZE"])) as number) > 0;
    }),
  );
  expect(perNode).toEqual([true, true, true]);
});

it("coordinates one acquisition on the cluster: the waiter is woken by the holder's release", async () => {
  const holder = store();
  const watched = countingClient(redisClusterClient(cluster));
  const waiter = store(watched.client);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let holding!: () => void;
  const held = new Promise<void>((resolve) => {
    holding = resolve;
  });
  const first = holder.coordinate(
    "cold",
    async () => {
      holding();
      await gate;
      await holder.set("cold", "token", 60_000);
    },
    new AbortController().signal,
  );
  await held;
  let waiterAcquired = false;
  const second = waiter.coordinate(
    "cold",
    async () => {
      waiterAcquired = true;
    },
    new AbortController().signal,
  );
  // Release only once the waiter has found the lease taken and looked at its expiry: released
  // before that, the waiter would find it free and rightly take it (a loaded machine did).
  while (!watched.sent("PTTL")) await new Promise((r) => setImmediate(r));
  release();
  await Promise.all([first, second]);
  expect(waiterAcquired, warnings.join("; ")).toBe(false);
  expect(await waiter.get("cold")).toBe("token");
});
