import type { HttpTransport } from "@certbound/core";
import { createAxiosTransport } from "@certbound/http-axios";
import { createUndiciTransport } from "@certbound/http-undici";

/** Both published transports: every end-to-end test runs with each. */
export const transports: ReadonlyArray<readonly [string, () => HttpTransport]> = [
  ["undici", () => createUndiciTransport()],
  ["axios", () => createAxiosTransport()],
];

/** The payload of a JWT, without verifying it (the emulator's resource verifies tokens for real). */
export function jwtPayload(token: string): Record<string, unknown> {
  const payload = token.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}
