// Starts a real redis-server (Debian's `redis-server` package) on a free 127.0.0.1 port, without
// persistence, for the tests; `scripts/ensure-debian-packages.mjs` installs it for `npm test`.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILLs the server and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function launch(port: number, extra: readonly string[], cwd: string | undefined): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--loglevel",
      "notice",
      ...extra,
    ],
    { stdio: ["ignore", "pipe", "pipe"], cwd },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("Ready to accept connections")) {
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once("error", (error) =>
      reject(
        new Error(`could not start redis-server (install Debian's redis-server package): ${error.message}`),
      ),
    );
    child.once("exit", (code) =>
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${out}`)),
    );
  });
}

/** `extra`: more redis-server arguments (e.g. cluster mode); `cwd`: where it writes its files. */
export async function startRedisServer(extra: readonly string[] = [], cwd?: string): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(port, extra, cwd);
  const kill = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGKILL");
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill();
      child = await launch(port, extra, cwd);
    },
    stop: kill,
  };
}
