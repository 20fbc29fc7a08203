// Drives "hang past the timeout" without waiting: the transport measures each attempt's
// `timeoutMs` on a test clock that never moves by itself. When a hang is armed, this wrapper waits
// (on the event loop, not on time) until the emulator has received the request it will never
// answer, then advances that clock by the attempt's budget, so the transport's own timeout fires.
import type { HttpRequest, HttpResponse, HttpTransport } from "@certbound/core";
import type { Emulator, EndpointName } from "@certbound/emulator";
import type { TestClock } from "@certbound/testing";
import { nextTick } from "./wait";

/** A transport wrapper that turns emulator hangs into transport timeouts on the test clock. */
export interface HangDriver extends HttpTransport {
  /**
   * From now on, requests that the emulator receives on `endpoint` and holds time out: the first
   * `times` of them after `skip` requests that the emulator answers normally.
   */
  arm(endpoint: EndpointName, options?: { skip?: number; times?: number }): void;
  /** Stops driving and forgets the counters. */
  reset(): void;
  /**
   * Requests sent without `timeoutMs` while armed: they would wait forever (or for the HTTP
   * client's wall-clock limit). The driver aborts them so the test ends, and counts them.
   */
  readonly unbounded: number;
  /** Timeouts the driver fired. */
  readonly fired: number;
}

/** Wraps `inner`, whose per-attempt timeouts must run on `transportClock`. */
export function hangDriver(inner: HttpTransport, transportClock: TestClock, emu: Emulator): HangDriver {
  let armed: EndpointName | undefined;
  let skip = 0;
  let times = 0;
  let unbounded = 0;
  let fired = 0;
  return {
    arm(endpoint, options = {}) {
      armed = endpoint;
      skip = options.skip ?? 0;
      times = options.times ?? Number.POSITIVE_INFINITY;
    },
    reset() {
      armed = undefined;
      unbounded = 0;
      fired = 0;
    },
    get unbounded() {
      return unbounded;
    },
    get fired() {
      return fired;
    },
    async send(request: HttpRequest): Promise<HttpResponse> {
      const endpoint = armed;
      if (endpoint === undefined || unbounded + fired >= times) return inner.send(request);
      const before = emu.stats().requests[endpoint];
      // Requests answered normally before the hang (Azure Arc's challenge) are not driven.
      if (before < skip) return inner.send(request);
      const stop = new AbortController();
      const signal = request.signal ? AbortSignal.any([request.signal, stop.signal]) : stop.signal;
      const pending = inner.send({ ...request, signal });
      let settled = false;
      pending.then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      while (!settled) {
        if (emu.stats().requests[endpoint] > before) {
          if (request.timeoutMs === undefined) {
            unbounded++;
            stop.abort(new Error("reliability: request without timeoutMs aborted by the hang driver"));
          } else {
            fired++;
            await transportClock.advance(request.timeoutMs);
          }
          break;
        }
        await nextTick();
      }
      return pending;
    },
    close: () => inner.close?.() ?? Promise.resolve(),
  };
}
