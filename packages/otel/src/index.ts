export type { CertboundInstrumentation, CertboundInstrumentationOptions } from "./instrument";
export { instrumentCertbound, TELEMETRY_NAMES } from "./instrument";
