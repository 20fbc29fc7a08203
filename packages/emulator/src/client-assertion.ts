import { createHash, X509Certificate } from "node:crypto";
import { x5tS256 } from "@certbound/core/credential-kit";
import type { EmulatorContext } from "./context";
import { type EntraError, entraErrors } from "./entra-errors";
import type { ConfidentialClient } from "./identities";
import { decodeJwt, type JwtAlgorithm, verifyJwtSignature } from "./jwt";

/** Clock skew allowed on an assertion's `exp` and `nbf`. */
export const ASSERTION_SKEW_SECONDS = 60;

/**
 * Checks a client assertion as Entra does for certificate credentials: RS256/PS256 signature by a
 * certificate registered on the application (found by `x5t#S256`, `x5t` or `x5c`), `iss` = `sub` =
 * client id, `aud` = the token endpoint, `exp`/`nbf` with {@link ASSERTION_SKEW_SECONDS} of skew,
 * and a `jti` (not used before, when `rejectReplayedAssertions` is on). Returns the error, or
 * `undefined` when the assertion is good.
 */
export function checkClientAssertion(
  ctx: EmulatorContext,
  assertion: string,
  client: ConfidentialClient,
  tokenEndpoint: { tenantSegment: string; tenantId: string },
): EntraError | undefined {
  const jwt = decodeJwt(assertion);
  if (!jwt) return entraErrors.malformedAssertion("it is not a compact JWS with a JSON header and payload.");
  const alg = jwt.header.alg;
  if (alg !== "RS256" && alg !== "PS256") return entraErrors.assertionAlgorithm(String(alg));

  const found = findCertificate(client, jwt.header);
  if ("error" in found) return found.error;
  if (!verifyJwtSignature(jwt, alg as JwtAlgorithm, found.certificate.publicKey)) {
    return entraErrors.assertionSignature();
  }

  const { payload } = jwt;
  const clientId = client.clientId.toLowerCase();
  if (typeof payload.iss !== "string" || payload.iss.toLowerCase() !== clientId) {
    return entraErrors.assertionSubject(
      `Client assertion issuer '${String(payload.iss)}' doesn't match 'client_id' parameter '${client.clientId}'. Set iss to the client id.`,
    );
  }
  if (typeof payload.sub !== "string" || payload.sub.toLowerCase() !== clientId) {
    return entraErrors.assertionSubject(
      `Client assertion subject '${String(payload.sub)}' doesn't match 'client_id' parameter '${client.clientId}'. Set sub to the client id.`,
    );
  }
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const expected = `${ctx.urls.authority}/${tokenEndpoint.tenantSegment}/oauth2/v2.0/token`;
  if (
    !audiences.some((aud) => typeof aud === "string" && isTokenEndpoint(ctx, aud, tokenEndpoint.tenantId))
  ) {
    return entraErrors.assertionClaim(
      `The audience of the client assertion ('${String(payload.aud)}') is not the token endpoint. Set aud to '${expected}'.`,
    );
  }

  const now = ctx.now() / 1000;
  if (typeof payload.exp !== "number")
    return entraErrors.assertionTime("the assertion has no numeric 'exp' claim.");
  if (payload.exp + ASSERTION_SKEW_SECONDS <= now) {
    return entraErrors.assertionTime(`it expired at ${new Date(payload.exp * 1000).toISOString()}.`);
  }
  if (payload.nbf !== undefined) {
    if (typeof payload.nbf !== "number") return entraErrors.assertionTime("the 'nbf' claim is not a number.");
    if (payload.nbf - ASSERTION_SKEW_SECONDS > now) {
      return entraErrors.assertionTime(
        `it is valid only from ${new Date(payload.nbf * 1000).toISOString()}; check the client's clock.`,
      );
    }
  }
  if (typeof payload.jti !== "string" || payload.jti === "") {
    return entraErrors.assertionClaim(
      "The client assertion has no 'jti' claim. Give every assertion a unique jti.",
    );
  }
  const replayKey = `${clientId} ${payload.jti}`;
  const usedUntil = ctx.usedAssertions.get(replayKey);
  if (ctx.settings.rejectReplayedAssertions && usedUntil !== undefined && usedUntil > ctx.now()) {
    return entraErrors.assertionClaim(
      `The client assertion with jti '${payload.jti}' was already used. Create a new assertion for every request.`,
    );
  }
  rememberAssertion(ctx, replayKey, (payload.exp + ASSERTION_SKEW_SECONDS) * 1000);
  return undefined;
}

function findCertificate(
  client: ConfidentialClient,
  header: Record<string, unknown>,
): { certificate: X509Certificate } | { error: EntraError } {
  let thumbprint: string;
  let matches: (c: X509Certificate) => boolean;
  let how: string;
  if (typeof header["x5t#S256"] === "string") {
    thumbprint = header["x5t#S256"];
    matches = (c) => x5tS256(c.raw) === thumbprint;
    how = "named by the assertion's x5t#S256 header";
  } else if (typeof header.x5t === "string") {
    thumbprint = header.x5t;
    matches = (c) => createHash("sha1").update(c.raw).digest("base64url") === thumbprint;
    how = "named by the assertion's x5t header";
  } else if (typeof leafOf(header.x5c) === "string") {
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(Buffer.from(leafOf(header.x5c) as string, "base64"));
    } catch {
      return {
        error: entraErrors.malformedAssertion("the first x5c entry is not a base64 DER certificate."),
      };
    }
    thumbprint = x5tS256(leaf.raw);
    matches = (c) => c.raw.equals(leaf.raw);
    how = "sent in the assertion's x5c header";
  } else {
    return {
      error: entraErrors.malformedAssertion(
        "the header names no certificate. Send x5t#S256 (or x5t, or x5c) with the certificate's thumbprint.",
      ),
    };
  }
  const certificate = client.certificates.find(matches);
  return certificate
    ? { certificate }
    : { error: entraErrors.unregisteredCertificate(client.clientId, thumbprint, how) };
}

// x5c is an array, leaf first (RFC 7515, msal-node); MSAL.NET sends the leaf alone as a string.
const leafOf = (x5c: unknown): unknown => (Array.isArray(x5c) ? x5c[0] : x5c);

function isTokenEndpoint(ctx: EmulatorContext, aud: string, tenantId: string): boolean {
  let url: URL;
  let base: URL;
  try {
    url = new URL(aud);
    base = new URL(ctx.urls.authority);
  } catch {
    return false;
  }
  const hostOk =
    url.protocol === "https:" &&
    url.port === base.port &&
    (url.hostname === base.hostname || url.hostname === "localhost" || url.hostname === "127.0.0.1");
  const segments = url.pathname.replace(/\/$/, "").split("/");
  return (
    hostOk &&
    segments.length === 5 &&
    (segments[1] ?? "").toLowerCase() === tenantId.toLowerCase() &&
    segments.slice(2).join("/").toLowerCase() === "oauth2/v2.0/token" &&
    url.search === ""
  );
}

function rememberAssertion(ctx: EmulatorContext, key: string, until: number): void {
  // Prune now and then instead of on a timer, so the emulator keeps no timers.
  if (ctx.usedAssertions.size >= 1024 && ctx.usedAssertions.size % 256 === 0) {
    const now = ctx.now();
    for (const [k, expiry] of ctx.usedAssertions) if (expiry <= now) ctx.usedAssertions.delete(k);
  }
  ctx.usedAssertions.set(key, until);
}
