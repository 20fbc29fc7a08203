import type { Emulator } from "@certbound/emulator";
import { createLocalJWKSet, type JWTPayload, jwtVerify } from "jose";
import { Agent, fetch } from "undici";

/**
 * Verifies an access token as a resource server would: the emulator's discovery document names
 * the issuer and `jwks_uri`, and jose checks signature (RS256), issuer, audience and lifetime.
 */
export async function verifyWithDiscovery(
  emu: Emulator,
  token: string,
  audience: string,
): Promise<JWTPayload> {
  const agent = new Agent({ connect: { ca: emu.caCertificatePem } });
  try {
    const get = async (url: string) => {
      const r = await fetch(url, { dispatcher: agent });
      if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}`);
      return (await r.json()) as Record<string, unknown>;
    };
    const discovery = await get(`${emu.authorityHost}/${emu.tenantId}/v2.0/.well-known/openid-configuration`);
    const jwks = await get(String(discovery.jwks_uri));
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
      issuer: String(discovery.issuer),
      audience,
      algorithms: ["RS256"],
    });
    return payload;
  } finally {
    await agent.close();
  }
}
