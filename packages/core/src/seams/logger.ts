/**
 * The logging seam. Every method is optional-safe: certbound calls only what you provide.
 * Messages never contain tokens, keys, assertions or secrets. Personal data (client ids, object ids,
 * resource ids, tenant ids) is replaced by `<pii>` unless `piiLoggingEnabled` is true.
 *
 * @public
 * @example
 * ```ts
 * const logger: Logger = { level: "info", log: (level, message, fields) => console.log(level, message, fields) };
 * ```
 */
export interface Logger {
  /** The most verbose level that is emitted. @default "info" */
  readonly level?: LogLevel;
  /** Whether identifiers that can name a person or a workload may appear. @default false */
  readonly piiLoggingEnabled?: boolean;
  log(level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/**
 * Log levels, most severe first.
 *
 * @public
 */
export type LogLevel = "error" | "warn" | "info" | "verbose";

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, verbose: 3 };

/**
 * A logger that drops everything; the default.
 *
 * @public
 * @example
 * ```ts
 * createTokenManager({ fetcher, logger: silentLogger });
 * ```
 */
export const silentLogger: Logger = { level: "error", log: () => {} };

/**
 * Wraps a {@link Logger} so callers can log cheaply: the level check happens before any message
 * work, and PII fields are masked unless the logger opted in.
 *
 * @public
 * @example
 * ```ts
 * const log = createLog(options.logger);
 * log.verbose("cache miss", { scopes: "https://vault.azure.net/.default" });
 * log.info("token acquired", { clientId: log.pii(clientId) });
 * ```
 */
export function createLog(logger: Logger = silentLogger) {
  const max = ORDER[logger.level ?? "info"];
  const emit = (level: LogLevel) => (message: string, fields?: Readonly<Record<string, unknown>>) => {
    if (ORDER[level] <= max) logger.log(level, message, fields);
  };
  return {
    error: emit("error"),
    warn: emit("warn"),
    info: emit("info"),
    verbose: emit("verbose"),
    /** Returns the value when PII logging is on, otherwise `<pii>`. */
    pii: (value: string | undefined): string | undefined =>
      value === undefined ? undefined : logger.piiLoggingEnabled ? value : "<pii>",
  };
}

/**
 * The object returned by {@link createLog}.
 *
 * @public
 */
export type Log = ReturnType<typeof createLog>;
