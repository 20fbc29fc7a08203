import { randomBytes } from "node:crypto";
import { invalidOptions, x5tS256 } from "@certbound/core/credential-kit";
import type { EmulatorContext, Router } from "./context";
import { sameResource } from "./entra-token-request";
import { type Exchange, json, type Reply } from "./exchange";

/** The audience of Key Vault's data-plane tokens, and the `resource` of its challenge. */
export const KEY_VAULT_RESOURCE = "https://vault.azure.net";

const SKEW_SECONDS = 5;
// Key Vault's rules: names of 1-127 letters, digits and dashes; versions of 32 hex digits.
const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const PATH = /^\/secrets\/([^/]+)(?:\/([^/]*))?\/?$/;

/**
 * What {@link Emulator.setKeyVaultSecret} stores, as Key Vault's "set secret" takes it.
 *
 * @public
 * @example
 * ```ts
 * const secret: KeyVaultSecretInput = { name: "db-password", value: "s3cret", contentType: "text/plain" };
 * ```
 */
export interface KeyVaultSecretInput {
  /** 1-127 letters, digits and dashes. */
  name: string;
  value: string;
  contentType?: string | undefined;
}

/**
 * One stored secret version: its `id` is the URL Key Vault answers with.
 *
 * @public
 * @example
 * ```ts
 * const { id, version }: KeyVaultSecretVersion = emu.setKeyVaultSecret({ name: "db-password", value: "s3cret" });
 * ```
 */
export interface KeyVaultSecretVersion {
  id: string;
  name: string;
  version: string;
}

interface StoredSecret {
  value: string;
  contentType: string | undefined;
  version: string;
  created: number;
}

/** The emulated vault's secrets: name (case-insensitive, as in Key Vault) -> versions, newest last. */
export class KeyVaultSecrets {
  private readonly secrets = new Map<string, StoredSecret[]>();

  constructor(private readonly ctx: EmulatorContext) {}

  set(input: KeyVaultSecretInput): KeyVaultSecretVersion {
    if (typeof input?.name !== "string" || !NAME.test(input.name)) {
      throw invalidOptions(
        "@certbound/emulator",
        "a Key Vault secret `name` is 1-127 letters, digits and dashes.",
      );
    }
    if (typeof input.value !== "string") {
      throw invalidOptions("@certbound/emulator", "a Key Vault secret `value` is a string.");
    }
    const version = randomBytes(16).toString("hex");
    const key = input.name.toLowerCase();
    const versions = this.secrets.get(key) ?? [];
    versions.push({
      value: input.value,
      contentType: input.contentType,
      version,
      created: Math.floor(this.ctx.now() / 1000),
    });
    this.secrets.set(key, versions);
    return { id: `${this.ctx.urls.resource}/secrets/${input.name}/${version}`, name: input.name, version };
  }

  get(name: string, version: string | undefined): StoredSecret | undefined {
    const versions = this.secrets.get(name.toLowerCase());
    if (!versions) return undefined;
    return version ? versions.find((v) => v.version === version.toLowerCase()) : versions.at(-1);
  }
}

/**
 * Key Vault's secrets surface on the resource server: `GET /secrets/{name}[/{version}]?api-version=`,
 * with Key Vault's authentication challenge, its token checks plus RFC 8705's certificate binding,
 * and its JSON shapes. Other paths, and /secrets paths without `api-version`, fall through to the
 * generic resource.
 */
export function keyVaultRouter(ctx: EmulatorContext, secrets: KeyVaultSecrets): Router {
  return (exchange) => {
    // Every Key Vault request carries api-version; a /secrets path without one stays the generic
    // resource's (tests call it with tokens for the resource's own audience).
    const match = exchange.query.has("api-version") ? PATH.exec(exchange.path) : null;
    if (!match) return undefined;
    return {
      endpoint: "resource",
      handle: () => getSecret(ctx, secrets, exchange, match[1] as string, match[2] || undefined),
      faultReply: (status) => keyVaultError(status, "InjectedFault", `Injected fault (HTTP ${status}).`),
    };
  };
}

function keyVaultError(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Reply {
  return json(status, { error: { code, message } }, headers);
}

// Key Vault answers a request without a token with this challenge; its SDKs read the tenant from
// `authorization` and the scope from `resource` (+ "/.default").
function challenge(ctx: EmulatorContext): Reply {
  return keyVaultError(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.", {
    "www-authenticate": `Bearer authorization="https://login.microsoftonline.com/${ctx.registry.tenantId}", resource="${KEY_VAULT_RESOURCE}"`,
  });
}

function invalidToken(reason: string, message: string): Reply {
  return keyVaultError(401, "Unauthorized", `${reason}: ${message}`, {
    "www-authenticate": `Bearer error="invalid_token", error_description="${reason}"`,
  });
}

function getSecret(
  ctx: EmulatorContext,
  secrets: KeyVaultSecrets,
  exchange: Exchange,
  rawName: string,
  version: string | undefined,
): Reply {
  if (exchange.method !== "GET") {
    return keyVaultError(
      405,
      "MethodNotAllowed",
      `The emulator's vault serves GET on secrets, not ${exchange.method}.`,
    );
  }
  const header = exchange.headers.authorization;
  if (!header) return challenge(ctx);
  const token = /^(Bearer|PoP|mtls_pop)\s+(\S+)\s*$/i.exec(header)?.[2];
  if (!token) return challenge(ctx);
  const jwt = ctx.issuer.verify(token);
  if (!jwt) return invalidToken("bad_signature", "The access token is not a JWT signed by this emulator.");
  const { payload } = jwt;
  const now = ctx.now() / 1000;
  if (typeof payload.exp !== "number" || payload.exp + SKEW_SECONDS <= now) {
    return invalidToken("expired", "The access token has expired. Acquire a new one.");
  }
  if (typeof payload.nbf === "number" && payload.nbf - SKEW_SECONDS > now) {
    return invalidToken("not_yet_valid", "The access token is not valid yet (nbf is in the future).");
  }
  const audience = typeof payload.aud === "string" ? payload.aud : "";
  if (!sameResource(audience, KEY_VAULT_RESOURCE)) {
    return invalidToken(
      "wrong_audience",
      `The access token is not for ${KEY_VAULT_RESOURCE}: ask for the scope ${KEY_VAULT_RESOURCE}/.default.`,
    );
  }
  const cnf = payload.cnf;
  const boundTo =
    typeof cnf === "object" && cnf !== null ? (cnf as Record<string, unknown>)["x5t#S256"] : undefined;
  const certificate = exchange.clientCertificate;
  if (cnf !== undefined) {
    const presented = certificate ? x5tS256(certificate.raw) : undefined;
    if (boundTo !== presented) {
      return invalidToken(
        "certificate_mismatch",
        presented
          ? "The token is bound to another certificate than the one presented in the TLS handshake (cnf x5t#S256 mismatch). Call the vault with the binding certificate the token was issued for."
          : "The token is bound to a certificate (cnf x5t#S256) and no TLS client certificate was presented. Call the vault over mutual TLS with the binding certificate the token was issued for.",
      );
    }
  } else if (!ctx.settings.resourceAcceptsBearer) {
    return invalidToken(
      "bearer_not_accepted",
      "This vault accepts only certificate-bound (mTLS PoP) tokens.",
    );
  }
  let name = "";
  try {
    name = decodeURIComponent(rawName);
  } catch {
    // a malformed escape names no secret
  }
  const stored = NAME.test(name) ? secrets.get(name, version) : undefined;
  if (!stored) {
    return keyVaultError(
      404,
      "SecretNotFound",
      `A secret with (name/id) ${name.replace(/[^\w-]/g, "?").slice(0, 127)}${version ? `/${version.replace(/[^\w]/g, "?").slice(0, 64)}` : ""} was not found in this key vault.`,
    );
  }
  return json(200, {
    value: stored.value,
    ...(stored.contentType !== undefined ? { contentType: stored.contentType } : {}),
    id: `${ctx.urls.resource}/secrets/${name}/${stored.version}`,
    attributes: {
      enabled: true,
      created: stored.created,
      updated: stored.created,
      recoveryLevel: "Recoverable+Purgeable",
      recoverableDays: 90,
    },
    tags: {},
  });
}
