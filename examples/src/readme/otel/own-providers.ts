// packages/otel/README.md, "Your own providers, and turning it off".
import { instrumentCertbound } from "@certbound/otel";
import type { MeterProvider, TracerProvider } from "@opentelemetry/api";

export function setUp(tracerProvider: TracerProvider, meterProvider: MeterProvider): void {
  // #region readme-otel-own-providers
  const instrumentation = instrumentCertbound({ tracerProvider, meterProvider });
  // ... on shutdown: unsubscribes from every certbound channel.
  instrumentation.disable();
  // #endregion readme-otel-own-providers
}
