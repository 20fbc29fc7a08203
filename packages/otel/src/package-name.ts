/** The instrumentation scope of every span and metric: this package's name and version. */
export const INSTRUMENTATION_NAME = "@certbound/otel";
/** Kept equal to package.json by a test. */
export const INSTRUMENTATION_VERSION = "0.0.0";
