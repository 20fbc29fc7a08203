// packages/otel/README.md, "Set up".

// #region readme-otel-setup
import { instrumentCertbound } from "@certbound/otel";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { metrics, NodeSDK } from "@opentelemetry/sdk-node";

const sdk = new NodeSDK({
  traceExporter: new OTLPTraceExporter(),
  metricReader: new metrics.PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() }),
});
sdk.start();
// After sdk.start(), so certbound's spans and metrics go to the providers the SDK registered.
instrumentCertbound();
// #endregion readme-otel-setup

export { sdk };
