import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { x5tS256 } from "@certbound/core/credential-kit";
import type { FaultQueue } from "../faults";
import type { IdentityRegistry } from "../identities";
import { decodeJwt } from "../jwt";
import type { ObservedRequest } from "../servers";
import { ENDPOINTS } from "../stats";
import { certificateFacts, correlationIdOf, type InspectorEntry, toEntry } from "./entry";
import { FlowTracker } from "./flows";

/** Requests the log keeps (oldest dropped first), and flows. */
export const INSPECTOR_LOG_LIMIT = 500;
export const INSPECTOR_FLOW_LIMIT = 200;
/** Live pages at once; one more is refused (each holds a connection and a write buffer). */
export const INSPECTOR_MAX_SUBSCRIBERS = 16;
// A page that stops reading is dropped before its unsent events pile up past this.
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** What the inspector reads and changes: the emulator's own fault queue and directory. */
export interface InspectorDeps {
  readonly now: () => number;
  readonly faults: FaultQueue;
  readonly registry: IdentityRegistry;
}

/**
 * The inspector's state: the request log grouped into flows, the tokens kept apart for reveal,
 * and the pages listening over server-sent events.
 */
export class Inspector {
  /** Per-run secret the page's controls send back; other origins cannot read the page to learn it. */
  readonly token = randomBytes(32).toString("base64url");
  private readonly entries: InspectorEntry[] = [];
  private readonly tokens = new Map<string, string>();
  private readonly tokenOwners = new Map<string, number>();
  private readonly flows = new FlowTracker(INSPECTOR_FLOW_LIMIT);
  private readonly subscribers = new Set<ServerResponse>();
  private nextId = 1;
  private closed = false;

  constructor(readonly deps: InspectorDeps) {}

  /** The server pipeline's observer: logs the request and tells every page. Never throws. */
  observe(event: ObservedRequest): void {
    try {
      this.record(event);
    } catch {
      // The log is a view; a request the inspector cannot read must not fail the emulator.
    }
  }

  private record(event: ObservedRequest): void {
    const { exchange } = event;
    const presented = /^(?:Bearer|mtls_pop|PoP)\s+(\S+)\s*$/i.exec(exchange.headers.authorization ?? "")?.[1];
    const presentedUti = presented ? decodeJwt(presented)?.payload.uti : undefined;
    const flowId = this.flows.assign({
      endpoint: event.endpoint,
      correlationId: correlationIdOf(exchange.headers),
      clientX5t: exchange.clientCertificate ? x5tS256(exchange.clientCertificate.raw) : undefined,
      presentedTokenId: typeof presentedUti === "string" ? presentedUti : undefined,
    });
    const id = this.nextId++;
    const entry = toEntry(event, { id, flowId, at: this.deps.now() }, (token) => {
      const ref = randomBytes(12).toString("base64url");
      this.tokens.set(ref, token);
      this.tokenOwners.set(ref, id);
      return ref;
    });
    const minted = event.endpoint !== "resource" ? entry.token?.claims.uti : undefined;
    this.flows.settle(flowId, {
      issuedX5t: entry.issuedCertificate?.x5tS256,
      mintedTokenId: typeof minted === "string" ? minted : undefined,
    });
    this.entries.push(entry);
    this.trim();
    this.broadcast("request", entry);
    // The request used up a fault: the page's list of pending faults changed.
    if (event.fault) this.stateChanged();
  }

  private trim(): void {
    const evicted = new Set(this.flows.evicted.splice(0));
    let drop = Math.max(0, this.entries.length - INSPECTOR_LOG_LIMIT);
    if (evicted.size > 0 || drop > 0) {
      const kept = this.entries.filter((e) => {
        if (drop > 0 || evicted.has(e.flowId)) {
          if (drop > 0) drop--;
          return false;
        }
        return true;
      });
      const keptIds = new Set(kept.map((e) => e.id));
      for (const [ref, owner] of this.tokenOwners) {
        if (!keptIds.has(owner)) {
          this.tokenOwners.delete(ref);
          this.tokens.delete(ref);
        }
      }
      this.entries.splice(0, this.entries.length, ...kept);
    }
  }

  /** The compact token behind a `ref`, for the reveal control. */
  reveal(ref: string): string | undefined {
    return this.tokens.get(ref);
  }

  /** Registered identities, clients and pending faults: public facts only. */
  state(): Record<string, unknown> {
    const { registry, faults } = this.deps;
    return {
      tenantId: registry.tenantId,
      managedIdentities: registry.listManagedIdentities().map((m) => ({
        kind: m.kind,
        clientId: m.clientId,
        objectId: m.objectId,
        resourceId: m.resourceId,
      })),
      clients: registry.listClients().map((c) => ({
        clientId: c.clientId,
        tenantId: c.tenantId,
        objectId: c.objectId,
        allowedScopes: c.allowedScopes ?? null,
        certificates: c.certificates.map(certificateFacts),
      })),
      faults: faults.pending().map(({ endpoint, fault, remaining }) => {
        const { body, ...rest } = fault;
        return {
          endpoint,
          fault: body === undefined ? rest : { ...rest, body: body.slice(0, 200) },
          // Infinity does not survive JSON.
          remaining: Number.isFinite(remaining) ? remaining : null,
        };
      }),
    };
  }

  /** Tells every page that identities, clients or faults changed. */
  stateChanged(): void {
    this.broadcast("state", this.state());
  }

  /** Starts an event stream on `res`: the log so far, the state, then each new request. */
  subscribe(res: ServerResponse): boolean {
    if (this.closed || this.subscribers.size >= INSPECTOR_MAX_SUBSCRIBERS) return false;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    this.subscribers.add(res);
    res.on("close", () => this.subscribers.delete(res));
    send(res, "snapshot", { entries: this.entries, state: this.state(), endpoints: ENDPOINTS });
    return true;
  }

  /** Ends every stream; later requests are not logged. */
  close(): void {
    this.closed = true;
    for (const res of this.subscribers) res.end();
    this.subscribers.clear();
  }

  private broadcast(event: string, data: unknown): void {
    for (const res of this.subscribers) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.subscribers.delete(res);
        res.destroy();
      } else {
        send(res, event, data);
      }
    }
  }
}

function send(res: ServerResponse, event: string, data: unknown): void {
  // JSON.stringify never emits a raw newline, so one `data:` line carries the whole event.
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
