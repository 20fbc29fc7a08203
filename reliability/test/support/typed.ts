// The property every parser of outside input must have: a value, or a typed CertboundError.
import { inspect } from "node:util";
import { isCertboundError } from "@certbound/core";

/** Thrown when code under test threw something that is not a CertboundError. */
export class UntypedError extends Error {
  override readonly name = "UntypedError";
}

/**
 * Runs `fn`; returns its value, or the CertboundError it threw. Anything else thrown fails the
 * property with the culprit in the message.
 */
export function typedOrValue<T>(fn: () => T): T | { readonly error: unknown } {
  try {
    return fn();
  } catch (error) {
    if (isCertboundError(error)) return { error };
    throw new UntypedError(`threw an untyped ${describe(error)}`);
  }
}

/** The async form of {@link typedOrValue}. */
export async function typedOrValueAsync<T>(fn: () => Promise<T>): Promise<T | { readonly error: unknown }> {
  try {
    return await fn();
  } catch (error) {
    if (isCertboundError(error)) return { error };
    throw new UntypedError(`rejected with an untyped ${describe(error)}`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error
    ? `${error.constructor.name}: ${error.message}`
    : `${typeof error}: ${inspect(error, { depth: 2 })}`;
}
