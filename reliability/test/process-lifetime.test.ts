// Process lifetime and timers as an application sees them (issue 12 items 1, 2 and 22): each case
// runs a small app in a child `node` process against a stub endpoint on 127.0.0.1 and checks what
// it printed, how it exited, and what the stub received.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { runApp } from "./support/run-app";

type Answer = (index: number, req: IncomingMessage) => { status: number; body: unknown };
const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A managed-identity endpoint (App Service style, plain HTTP on loopback) answering from a script. */
async function stub(answer: Answer): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? "");
    const { status, body } = answer(requests.length, req);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({ close: () => server.close() });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`, requests };
}

const token = (n: number) => ({
  status: 200,
  body: { access_token: `token-${n}`, expires_in: 3600, refresh_in: 60, token_type: "Bearer" },
});
const serverError = { status: 500, body: { error: "unavailable" } };

describe("process lifetime", () => {
  it("an app whose first request gets a 500 waits out the back-off, prints the token and exits 0", async () => {
    const endpoint = await stub((n) => (n === 1 ? serverError : token(n)));
    const run = await runApp("retry-then-print", { STUB_URL: endpoint.url });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("token: token-2\n");
    expect(run.code).toBe(0);
    expect(endpoint.requests).toHaveLength(2);
  });

  it("a background refresh in its retry back-off does not keep a finished app alive", async () => {
    const endpoint = await stub((n) => (n === 1 ? token(n) : serverError));
    const run = await runApp("background-refresh", { STUB_URL: endpoint.url });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("first: identity_provider, second: cache\n");
    expect(run.code).toBe(0);
    // The refresh's first attempt went out; its 1 s retry wait did not hold the process, so no
    // retry followed (a referenced wait would have sent three more).
    expect(endpoint.requests).toHaveLength(2);
  });

  it("a caller that joins a background refresh keeps the app alive until it has its token", async () => {
    const endpoint = await stub((n) => (n === 2 ? serverError : token(n)));
    const run = await runApp("join-refresh", { STUB_URL: endpoint.url });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("forced: token-3\n");
    expect(run.code).toBe(0);
    expect(endpoint.requests).toHaveLength(3);
  });

  it("a wait longer than 2^31-1 ms is not cut to 1 ms", async () => {
    const run = await runApp("long-sleep", {});
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("still waiting\n");
    expect(run.code).toBe(0);
  });

  it("one AbortSignal shared by 60 concurrent requests and acquisitions prints no MaxListenersExceededWarning", async () => {
    const endpoint = await stub((n, req) =>
      req.url?.startsWith("/msi/token/resource") ? { status: 200, body: { ok: true } } : token(n),
    );
    const run = await runApp("shared-signal", { STUB_URL: endpoint.url });
    expect(run.stderr).not.toContain("MaxListenersExceededWarning");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ warnings: [] });
    // 120 resource requests, one token acquisition shared by the 60 callers.
    expect(endpoint.requests.filter((u) => !u.startsWith("/msi/token/resource"))).toHaveLength(1);
  });
});
