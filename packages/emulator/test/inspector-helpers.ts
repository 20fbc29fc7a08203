// Flows driven by hand against the emulator, and a server-sent-events reader, for the inspector's
// tests (socket level and in a browser).
import { type KeyObject, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { request } from "node:https";
import type { IssuedCertificate } from "@certbound/core/credential-kit";
import type { Emulator } from "../src/index";
import { buildCsr, derToPem, formPost, type Sent, send } from "./helpers";

/** A certificate and key to call with. */
export interface Identity {
  certificatePem: string;
  keyPem: string;
}

/**
 * Confidential-client PoP flow: mTLS token request with `tokenIdentity`, then the resource called
 * with `resourceIdentity` (the same one, or another to make the binding fail).
 */
export async function popFlow(
  emu: Emulator,
  options: {
    clientId: string;
    tokenIdentity: Identity | IssuedCertificate;
    resourceIdentity?: Identity | IssuedCertificate;
    correlationId?: string;
  },
): Promise<{ token: Sent; resource: Sent | undefined }> {
  const tokenIdentity = options.tokenIdentity;
  const token = await send(
    `${emu.mtlsAuthorityHost}/${emu.tenantId}/oauth2/v2.0/token`,
    formPost(
      {
        client_id: options.clientId,
        grant_type: "client_credentials",
        scope: `${emu.resourceUrl}/.default`,
        token_type: "mtls_pop",
      },
      {
        ca: emu.caCertificatePem,
        cert: pem(tokenIdentity),
        key: tokenIdentity.keyPem,
        headers: { "client-request-id": options.correlationId ?? randomUUID() },
      },
    ),
  );
  if (token.status !== 200) return { token, resource: undefined };
  const resourceIdentity = options.resourceIdentity ?? tokenIdentity;
  const resource = await send(`${emu.resourceUrl}/api/items`, {
    ca: emu.caCertificatePem,
    cert: pem(resourceIdentity),
    key: resourceIdentity.keyPem,
    headers: { authorization: `mtls_pop ${String(token.json.access_token)}` },
  });
  return { token, resource };
}

/**
 * Managed identity on a VM with IMDS v2: getplatformmetadata -> issuecredential (one correlation
 * id) -> mTLS token with the issued certificate (no correlation id: the inspector links it by the
 * certificate) -> resource.
 */
export async function imdsV2Flow(
  emu: Emulator,
  keys: { privateKey: KeyObject; publicKey: KeyObject },
  correlationId: string = randomUUID(),
): Promise<{ issued: Sent; token: Sent; resource: Sent }> {
  const headers = { Metadata: "true", "x-ms-client-request-id": correlationId };
  const meta = await send(`${emu.imdsEndpoint}/metadata/identity/getplatformmetadata?cred-api-version=2.0`, {
    headers,
  });
  const csr = buildCsr({
    ...keys,
    tenantId: emu.tenantId,
    clientId: emu.systemAssignedIdentity.clientId,
    cuIdJson: JSON.stringify(meta.json.cuId),
  });
  const issued = await send(`${emu.imdsEndpoint}/metadata/identity/issuecredential?cred-api-version=2.0`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify({ csr: csr.toString("base64") }),
  });
  const identity = {
    certificatePem: derToPem(Buffer.from(String(issued.json.certificate), "base64")),
    keyPem: keys.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  };
  const token = await send(
    `${emu.mtlsAuthorityHost}/${emu.tenantId}/oauth2/v2.0/token`,
    formPost(
      {
        client_id: emu.systemAssignedIdentity.clientId,
        grant_type: "client_credentials",
        scope: `${emu.resourceUrl}/.default`,
        token_type: "mtls_pop",
      },
      { ca: emu.caCertificatePem, cert: identity.certificatePem, key: identity.keyPem },
    ),
  );
  const resource = await send(`${emu.resourceUrl}/vm/data`, {
    ca: emu.caCertificatePem,
    cert: identity.certificatePem,
    key: identity.keyPem,
    headers: { authorization: `mtls_pop ${String(token.json.access_token)}` },
  });
  return { issued, token, resource };
}

function pem(identity: Identity | IssuedCertificate): string {
  return identity.certificatePem;
}

/** One server-sent event. */
export interface ServerEvent {
  event: string;
  data: unknown;
}

/**
 * Reads an event stream: every event so far is in `events`, its raw text in `raw`; `next` waits
 * (on I/O, never on a timer) for an event that matches.
 */
export class EventReader {
  readonly events: ServerEvent[] = [];
  raw = "";
  private buffer = "";
  private waiters: Array<{ match: (e: ServerEvent) => boolean; resolve: (e: ServerEvent) => void }> = [];
  private constructor(
    readonly response: IncomingMessage,
    private readonly close: () => void,
  ) {
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => this.push(chunk));
  }

  static open(url: string, ca: string, headers: Record<string, string> = {}): Promise<EventReader> {
    return new Promise((resolve, reject) => {
      const req = request(url, { ca, headers, agent: false }, (res) => {
        resolve(new EventReader(res, () => req.destroy()));
      });
      req.on("error", reject);
      req.end();
    });
  }

  /** The first event (already received or still to come) after `from` that matches. */
  next(match: (e: ServerEvent) => boolean, from = 0): Promise<ServerEvent> {
    const seen = this.events.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Ends the stream from the client's side. */
  stop(): void {
    this.close();
  }

  private push(chunk: string): void {
    this.raw += chunk;
    this.buffer += chunk;
    let end = this.buffer.indexOf("\n\n");
    while (end !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = /^data: (.*)$/m.exec(block)?.[1];
      const parsed: ServerEvent = { event, data: data === undefined ? undefined : JSON.parse(data) };
      this.events.push(parsed);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(parsed)) return true;
        w.resolve(parsed);
        return false;
      });
      end = this.buffer.indexOf("\n\n");
    }
  }
}
