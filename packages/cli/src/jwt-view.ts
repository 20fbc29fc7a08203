import { CliError } from "./cli-error";

/** A JWT's readable parts; the signature is never kept (it is part of the secret). */
export interface DecodedJwt {
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
}

const TIME_CLAIMS = ["iat", "nbf", "exp", "auth_time", "xms_tcdt"];

function part(text: string | undefined, name: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(text ?? "", "base64url").toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CliError("invalid_jwt", `the token's ${name} is not base64url-encoded JSON.`);
}

/** Decodes without verifying: for reading a token, never for trusting it. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.trim().split(".");
  // Only the shape is said, never the text: it may be a secret pasted in the wrong place.
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[0] || !parts[1]) {
    throw new CliError(
      "invalid_jwt",
      `the input is not a JWT: expected three base64url parts separated by dots, got ${parts.length} part(s) of ${token.trim().length} characters.`,
    );
  }
  return { header: part(parts[0], "header"), claims: part(parts[1], "payload (claims)") };
}

/** `cnf["x5t#S256"]` of the claims, when present. */
export function cnfThumbprint(claims: Record<string, unknown>): string | undefined {
  const cnf = claims.cnf;
  const value =
    typeof cnf === "object" && cnf !== null ? (cnf as Record<string, unknown>)["x5t#S256"] : undefined;
  return typeof value === "string" ? value : undefined;
}

/** Epoch seconds as "2026-12-01T05:00:00.000Z (local 2026-12-01 06:00:00 +01:00)". */
export function formatTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return String(seconds);
  const two = (n: number) => String(n).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const zone = `${offset < 0 ? "-" : "+"}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  const local = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${zone}`;
  return `${date.toISOString()} (local ${local})`;
}

/** Whether a claim holds a time in epoch seconds. */
export function isTimeClaim(name: string, value: unknown): value is number {
  return TIME_CLAIMS.includes(name) && typeof value === "number" && Number.isFinite(value);
}

/** The claims with times also in ISO form, for `--json`. */
export function claimsWithTimes(claims: Record<string, unknown>): Record<string, unknown> {
  const times: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (isTimeClaim(name, value)) {
      const date = new Date(value * 1000);
      if (!Number.isNaN(date.getTime())) times[name] = date.toISOString();
    }
  }
  return times;
}

/**
 * One line per claim, `cnf` marked; server text is made printable (a token is attacker-chosen
 * input for `decode`: no escape sequence of it reaches the terminal).
 */
export function claimLines(
  claims: Record<string, unknown>,
  mark: (name: string, text: string) => string,
): string[] {
  const width = Math.max(3, ...Object.keys(claims).map((k) => printable(k).length));
  return Object.entries(claims).map(([name, value]) => {
    const shown = isTimeClaim(name, value)
      ? `${value}  ${formatTime(value)}`
      : printable(JSON.stringify(value));
    return mark(name, `  ${printable(name).padEnd(width)}  ${shown}`);
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Control characters (ESC, CR, LF, ...) as \u escapes, so no text can move the cursor or forge a line. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
