// Process lifetime, as an app runs: a process that used the Redis store and let go of its client
// exits on its own, even with the longest command timeout (the store's one timer is unref'd; a
// command in flight keeps the process alive through the client's socket, not through the timer).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "./redis-server";

const here = dirname(fileURLToPath(import.meta.url));
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

it("an app that is done exits on its own, with code 0, after reading through Redis", async () => {
  const child = spawn(process.execPath, [join(here, "exit-app.mjs")], {
    cwd: join(here, ".."),
    env: { ...process.env, REDIS_URL: server.url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  child.stderr.on("data", (chunk) => {
    err += chunk;
  });
  const [code] = await once(child, "exit");
  expect(err).toBe("");
  expect(out).toBe("value-a value-b\n");
  expect(code).toBe(0);
});
