// Shared by the client scripts: each runs in its own `node` process, as an application would,
// reads its input from INTEROP_INPUT and prints one JSON line for the test to read.

/** The JSON input the test passed. */
export function input() {
  return JSON.parse(process.env.INTEROP_INPUT ?? "{}");
}

/** What a client library threw, without anything secret: its class, code and first message line. */
export function describeError(error) {
  const e = /** @type {Record<string, unknown>} */ (error ?? {});
  const cause = /** @type {Record<string, unknown> | undefined} */ (e.cause);
  return {
    name: String(e.name ?? "Error"),
    errorCode: typeof e.errorCode === "string" ? e.errorCode : undefined,
    causeErrorCode: typeof cause?.errorCode === "string" ? cause.errorCode : undefined,
    message: String(e.message ?? error)
      .split("\n")[0]
      .slice(0, 600),
  };
}

/** Runs `main`, prints `{ ok, results }` or `{ ok: false, error }`, and exits. */
export function run(main) {
  main().then(
    (results) => {
      process.stdout.write(`${JSON.stringify({ ok: true, results })}\n`);
      process.exit(0);
    },
    (error) => {
      process.stdout.write(`${JSON.stringify({ ok: false, error: describeError(error) })}\n`);
      process.exit(1);
    },
  );
}

/** Runs one case and records its token or its error, so one failing case does not hide the others. */
export async function attempt(label, acquire) {
  try {
    return { label, ok: true, ...(await acquire()) };
  } catch (error) {
    return { label, ok: false, error: describeError(error) };
  }
}
