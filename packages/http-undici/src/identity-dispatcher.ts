import { Dispatcher } from "undici";

/**
 * The Dispatcher handed out by `dispatcherFor()`: it looks up the identity's pool on every
 * dispatch, so it stays valid when the pool is evicted and recreated, and it routes each origin
 * (direct or through the proxy) the way `send()` would. The transport owns the connections:
 * closing or destroying this object does nothing, `transport.close()` does it all.
 */
export class IdentityDispatcher extends Dispatcher {
  readonly #resolve: (origin: URL) => Dispatcher;

  constructor(resolve: (origin: URL) => Dispatcher) {
    super();
    this.#resolve = resolve;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    let target: Dispatcher;
    try {
      target = this.#resolve(new URL(String(options.origin)));
    } catch (error) {
      // Dispatchers report failures through the handler, never by throwing.
      const legacy = handler as { onError?: (error: Error) => void };
      if (typeof legacy.onError === "function") {
        legacy.onError(error as Error);
        return false;
      }
      throw error;
    }
    return target.dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | undefined {
    if (callback) {
      queueMicrotask(callback);
      return undefined;
    }
    return Promise.resolve();
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(first?: Error | null | (() => void), second?: () => void): Promise<void> | undefined {
    const callback = typeof first === "function" ? first : second;
    if (callback) {
      queueMicrotask(callback);
      return undefined;
    }
    return Promise.resolve();
  }
}
