// Bounds on what a PFX may ask of us, so that a hostile or damaged file fails fast instead of
// holding the event loop. Real exporters stay far below them: OpenSSL uses 2,048 iterations,
// Windows 2,000, Java 10,000.
export const MAX_PFX_BYTES = 16 * 1024 * 1024;
export const MAX_ITERATIONS = 1_000_000;
export const MAX_SALT_BYTES = 1024;
// SafeContents inside SafeContents (safeContentsBag): no exporter nests them at all.
export const MAX_BAG_NESTING = 4;
