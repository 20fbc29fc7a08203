// A transport wrapper that keeps what the client sent: the emulator redacts client assertions and
// secret headers in its records, so the secrets a client sends are captured here instead.
import type { HttpRequest, HttpTransport } from "@certbound/core";

/** A transport that records every request before passing it on. */
export interface RecordingTransport extends HttpTransport {
  readonly requests: readonly HttpRequest[];
  /** Every `client_assertion` form field sent. */
  assertions(): string[];
  /** Every value of the named request header sent (lower-case name). */
  headerValues(name: string): string[];
}

/** Wraps `inner`, recording requests. */
export function recordingTransport(inner: HttpTransport): RecordingTransport {
  const requests: HttpRequest[] = [];
  return {
    requests,
    send(request) {
      requests.push(request);
      return inner.send(request);
    },
    assertions() {
      return requests.flatMap((r) => {
        if (typeof r.body !== "string") return [];
        const value = new URLSearchParams(r.body).get("client_assertion");
        return value ? [value] : [];
      });
    },
    headerValues(name) {
      return requests.flatMap((r) => {
        const value = r.headers[name];
        return value === undefined ? [] : [value];
      });
    },
  };
}
