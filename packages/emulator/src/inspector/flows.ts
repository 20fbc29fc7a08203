import type { EndpointName } from "../types";

/** What the flow tracker needs to know about a request before it is logged. */
export interface FlowClue {
  endpoint: EndpointName;
  correlationId?: string | undefined;
  /** `x5t#S256` of the TLS client certificate, if one was presented. */
  clientX5t?: string | undefined;
  /** `uti` of the token the request presented (resource calls). */
  presentedTokenId?: string | undefined;
}

/** What a request left behind that later requests of the same flow point back to. */
export interface FlowOutcome {
  /** `x5t#S256` of the certificate IMDS issued. */
  issuedX5t?: string | undefined;
  /** `uti` of the token a token endpoint minted. */
  mintedTokenId?: string | undefined;
}

interface Flow {
  id: number;
  endpoints: Set<EndpointName>;
  keys: string[];
}

const TOKEN_STEPS = new Set<EndpointName>(["token", "mtlsToken", "imdsToken"]);

/**
 * Groups requests into flows (getplatformmetadata -> issuecredential -> token -> resource, or
 * token -> resource). Clients send one correlation id for the steps of one acquisition, but the
 * resource call carries none: it joins the flow that minted its token, and the mTLS token request
 * of a managed identity joins the flow whose issuecredential issued its certificate. A flow takes
 * each of those links once, so a cached token used again starts a flow of its own.
 */
export class FlowTracker {
  private nextId = 1;
  private readonly flows = new Map<number, Flow>();
  private readonly links = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** The flow a request belongs to, opening a new one when nothing links it to an open flow. */
  assign(clue: FlowClue): number {
    const linked =
      this.follow(clue.correlationId && `cid:${clue.correlationId}`) ??
      (clue.endpoint === "mtlsToken"
        ? this.open(clue.clientX5t && `cert:${clue.clientX5t}`, clue)
        : undefined) ??
      (clue.endpoint === "resource"
        ? this.open(clue.presentedTokenId && `uti:${clue.presentedTokenId}`, clue)
        : undefined);
    const flow = linked ?? this.create();
    flow.endpoints.add(clue.endpoint);
    if (clue.correlationId) this.link(`cid:${clue.correlationId}`, flow);
    return flow.id;
  }

  /** Records what a request of `flowId` left behind for later steps to link to. */
  settle(flowId: number, outcome: FlowOutcome): void {
    const flow = this.flows.get(flowId);
    if (!flow) return;
    if (outcome.issuedX5t) this.link(`cert:${outcome.issuedX5t}`, flow);
    if (outcome.mintedTokenId) this.link(`uti:${outcome.mintedTokenId}`, flow);
  }

  /** Flows dropped to stay within the limit since the last call (their requests go too). */
  evicted: number[] = [];

  private follow(key: string | undefined): Flow | undefined {
    const id = key ? this.links.get(key) : undefined;
    return id === undefined ? undefined : this.flows.get(id);
  }

  // A token request joins the flow of its certificate only while that flow has no token yet; a
  // resource call joins the flow of its token only while that flow has no resource call yet.
  private open(key: string | undefined, clue: FlowClue): Flow | undefined {
    const flow = this.follow(key);
    if (!flow) return undefined;
    if (clue.endpoint === "resource" ? flow.endpoints.has("resource") : hasTokenStep(flow)) return undefined;
    return flow;
  }

  private create(): Flow {
    const flow: Flow = { id: this.nextId++, endpoints: new Set(), keys: [] };
    this.flows.set(flow.id, flow);
    while (this.flows.size > this.limit) {
      const [oldest] = this.flows.values();
      if (!oldest) break;
      this.flows.delete(oldest.id);
      for (const key of oldest.keys) if (this.links.get(key) === oldest.id) this.links.delete(key);
      this.evicted.push(oldest.id);
    }
    return flow;
  }

  private link(key: string, flow: Flow): void {
    if (this.links.get(key) === flow.id) return;
    this.links.set(key, flow.id);
    flow.keys.push(key);
  }
}

function hasTokenStep(flow: Flow): boolean {
  for (const endpoint of flow.endpoints) if (TOKEN_STEPS.has(endpoint)) return true;
  return false;
}
