// packages/otel/README.md, "Without OpenTelemetry: the channels".

// #region readme-otel-channels
import { subscribe } from "node:diagnostics_channel";
import { type AcquireEvent, DIAGNOSTICS_CHANNELS } from "@certbound/core";

subscribe(DIAGNOSTICS_CHANNELS.acquireEnd, (message) => {
  const event = message as AcquireEvent;
  console.log(event.tokenSource, event.tokenType, event.durationMs, event.retries);
});
// #endregion readme-otel-channels
