import type { RedisClientLike } from "../src/index";

/**
 * Wraps a Redis client to record every command a store sends through it: to prove a local hit
 * sends none, or to tell when a waiting process has looked at the lease (its `PTTL`).
 */
export function countingClient(inner: RedisClientLike) {
  const commands: string[][] = [];
  const client: RedisClientLike = {
    sendCommand: (args) => {
      commands.push([...args]);
      return inner.sendCommand(args);
    },
    duplicate: () => inner.duplicate(),
  };
  return { client, commands, sent: (name: string) => commands.some((c) => c[0] === name) };
}
