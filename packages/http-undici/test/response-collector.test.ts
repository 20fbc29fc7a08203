import type { Dispatcher } from "undici";
import { describe, expect, it } from "vitest";
import { ResponseCollector } from "../src/response-collector";

const endpoint = "https://api.example.test/x";

// What undici hands a handler: a controller whose abort() we record.
function controller(): Dispatcher.DispatchController & { aborts: Error[] } {
  const aborts: Error[] = [];
  return {
    aborts,
    aborted: false,
    paused: false,
    reason: null,
    abort(reason: Error) {
      aborts.push(reason);
    },
    pause() {},
    resume() {},
  };
}

describe("ResponseCollector", () => {
  it("resolves with status, headers and the whole body once the response ends", async () => {
    const c = controller();
    const collector = new ResponseCollector(100, endpoint);
    collector.onRequestStart(c);
    collector.onResponseStart(c, 200, { "content-type": "text/plain", "set-cookie": ["a=1", "b=2"] });
    collector.onResponseData(c, Buffer.from("hello "));
    collector.onResponseData(c, Buffer.from("world"));
    collector.onResponseEnd();
    const response = await collector.response;
    expect(response.statusCode).toBe(200);
    expect(response.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    expect(response.body.toString()).toBe("hello world");
    expect(collector.answered).toBe(true);
    expect(c.aborts).toEqual([]);
  });

  it("hands a body that came in one chunk over without copying it", async () => {
    const c = controller();
    const collector = new ResponseCollector(100, endpoint);
    const chunk = Buffer.from("only chunk");
    collector.onRequestStart(c);
    collector.onResponseStart(c, 200, {});
    collector.onResponseData(c, chunk);
    collector.onResponseEnd();
    expect((await collector.response).body).toBe(chunk);
  });

  it("skips informational (1xx) answers and keeps the final one", async () => {
    const c = controller();
    const collector = new ResponseCollector(100, endpoint);
    collector.onRequestStart(c);
    collector.onResponseStart(c, 103, { link: "</style.css>; rel=preload" });
    expect(collector.answered).toBe(false);
    collector.onResponseStart(c, 201, { location: "/items/1" });
    collector.onResponseEnd();
    const response = await collector.response;
    expect(response.statusCode).toBe(201);
    expect(response.headers).toEqual({ location: "/items/1" });
  });

  it("refuses a declared content-length over the cap before any byte, aborting the request", async () => {
    const c = controller();
    const collector = new ResponseCollector(10, endpoint);
    collector.onRequestStart(c);
    collector.onResponseStart(c, 200, { "content-length": "11" });
    await expect(collector.response).rejects.toMatchObject({ code: "response_too_large" });
    expect(c.aborts).toHaveLength(1);
    expect(c.aborts[0]).toMatchObject({ code: "response_too_large" });
    // What undici delivers after the abort changes nothing.
    collector.onResponseData(c, Buffer.from("12345678901"));
    collector.onResponseError(c, new Error("aborted"));
    expect(c.aborts).toHaveLength(1);
  });

  it("fails as soon as the body grows past the cap (a body of exactly the cap passes)", async () => {
    const exact = new ResponseCollector(10, endpoint);
    const ce = controller();
    exact.onRequestStart(ce);
    exact.onResponseStart(ce, 200, {});
    exact.onResponseData(ce, Buffer.from("12345"));
    exact.onResponseData(ce, Buffer.from("67890"));
    exact.onResponseEnd();
    expect((await exact.response).body.toString()).toBe("1234567890");

    const over = new ResponseCollector(10, endpoint);
    const co = controller();
    over.onRequestStart(co);
    over.onResponseStart(co, 200, {});
    over.onResponseData(co, Buffer.from("12345"));
    expect(co.aborts).toHaveLength(0);
    over.onResponseData(co, Buffer.from("678901"));
    expect(co.aborts).toHaveLength(1);
    await expect(over.response).rejects.toMatchObject({
      code: "response_too_large",
      message: expect.stringContaining(endpoint),
    });
  });

  it("cancel() settles at once, and aborts a request undici starts only later (queued, or in a TLS handshake)", async () => {
    const collector = new ResponseCollector(100, endpoint);
    const reason = new Error("timed out");
    collector.cancel(reason);
    expect(collector.settled).toBe(true);
    await expect(collector.response).rejects.toBe(reason);
    const late = controller();
    collector.onRequestStart(late);
    expect(late.aborts).toEqual([reason]);
  });

  it("cancel() aborts a request in flight, and keeps nothing that arrives afterwards", async () => {
    const c = controller();
    const collector = new ResponseCollector(100, endpoint);
    collector.onRequestStart(c);
    collector.onResponseStart(c, 200, {});
    collector.onResponseData(c, Buffer.from("partial"));
    const reason = new Error("aborted by the caller");
    collector.cancel(reason);
    expect(c.aborts).toEqual([reason]);
    collector.onResponseData(c, Buffer.from("more"));
    collector.onResponseEnd();
    await expect(collector.response).rejects.toBe(reason);
  });

  it("passes undici's error on, and a cancel() after the end changes nothing", async () => {
    const failing = new ResponseCollector(100, endpoint);
    const c = controller();
    failing.onRequestStart(c);
    const socketError = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    failing.onResponseError(c, socketError);
    await expect(failing.response).rejects.toBe(socketError);
    expect(failing.answered).toBe(false);

    const done = new ResponseCollector(100, endpoint);
    const d = controller();
    done.onRequestStart(d);
    done.onResponseStart(d, 204, {});
    done.onResponseEnd();
    done.cancel(new Error("too late"));
    expect(d.aborts).toEqual([]);
    expect((await done.response).statusCode).toBe(204);
  });
});
