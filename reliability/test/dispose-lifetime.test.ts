// Lifecycles as an application sees them (issue 15 item 6): a small app in a child `node` process
// disposes of its client and transport through Symbol.asyncDispose and must then exit on its own,
// with later calls refused, while the endpoint still holds its keep-alive connection open.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, it } from "vitest";
import { runApp } from "./support/run-app";

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

it("an app that disposes of client and transport in finally exits 0, and later calls are refused", async () => {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { "content-type": "application/json", connection: "keep-alive" });
    res.end(JSON.stringify({ access_token: "token-1", expires_in: 3600, token_type: "Bearer" }));
  });
  // The stub keeps idle connections for a minute: only the transport's close can end them in time.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`;

  const run = await runApp("dispose-and-exit", { STUB_URL: url });
  expect(run.stderr).toBe("");
  expect(run.stdout).toBe("token: token-1\nafter dispose: aborted\ntransport after dispose: network_error\n");
  expect(run.code).toBe(0);
  expect(requests).toBe(1);
});
