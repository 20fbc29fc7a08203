// Process lifetime, as an app runs: a process that used the Redis store and let go of its client
// exits on its own, even with the longest command timeout (the store's one timer is unref'd; a
// command in flight keeps the process alive through the client's socket, not through the timer).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runNodeApp } from "@certbound/testing";
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
  // cwd: this package, so the app's bare imports resolve to its dist/ and its dependencies.
  const run = await runNodeApp([join(here, "exit-app.mjs")], {
    cwd: join(here, ".."),
    env: { REDIS_URL: server.url },
  });
  expect(run).toEqual({ code: 0, signal: null, stdout: "value-a value-b\n", stderr: "" });
});
