import { invalidOptions } from "@certbound/core/credential-kit";
import type { EndpointName, Fault } from "./types";

/** A fault with its remaining count. */
interface QueuedFault {
  fault: Fault;
  remaining: number;
}

/** Faults waiting per endpoint; each request takes one use of the oldest. */
export class FaultQueue {
  private readonly queues = new Map<EndpointName, QueuedFault[]>();

  add(endpoint: EndpointName, fault: Fault): void {
    validateFault(fault);
    const queue = this.queues.get(endpoint) ?? [];
    queue.push({ fault: { ...fault }, remaining: fault.count ?? 1 });
    this.queues.set(endpoint, queue);
  }

  take(endpoint: EndpointName): Fault | undefined {
    const queue = this.queues.get(endpoint);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.remaining--;
    if (head.remaining <= 0) queue.shift();
    return head.fault;
  }

  /** Faults still waiting, per endpoint, with their remaining counts (the inspector shows them). */
  pending(): Array<{ endpoint: EndpointName; fault: Fault; remaining: number }> {
    return [...this.queues].flatMap(([endpoint, queue]) =>
      queue.map((q) => ({ endpoint, fault: { ...q.fault }, remaining: q.remaining })),
    );
  }

  clear(): void {
    this.queues.clear();
  }
}

/** Whether the fault replaces the answer (as opposed to delaying it or adding headers). */
export function replacesAnswer(fault: Fault): boolean {
  return fault.status !== undefined || fault.body !== undefined;
}

function validateFault(fault: Fault): void {
  const pkg = "@certbound/emulator";
  if (typeof fault !== "object" || fault === null)
    throw invalidOptions(pkg, "injectFault needs a fault object.");
  if (fault.count !== undefined && !(fault.count >= 1)) {
    throw invalidOptions(pkg, "`fault.count` must be at least 1 (use Infinity for every request).");
  }
  if (
    fault.status !== undefined &&
    !(Number.isInteger(fault.status) && fault.status >= 200 && fault.status <= 599)
  ) {
    throw invalidOptions(pkg, "`fault.status` must be an HTTP status between 200 and 599.");
  }
  if (fault.delayMs !== undefined && !(Number.isFinite(fault.delayMs) && fault.delayMs >= 0)) {
    throw invalidOptions(pkg, "`fault.delayMs` must be a non-negative number of milliseconds.");
  }
  if (fault.hang && fault.reset)
    throw invalidOptions(pkg, "A fault cannot both `hang` and `reset`; pick one.");
}
