// Preloaded into every `certbound` child the tests start (NODE_OPTIONS=--import): a connection to
// anything but loopback ends the process with exit code 99, so a test that would reach IMDS at
// 169.254.169.254, login.microsoftonline.com or any other host fails loudly instead.
import net from "node:net";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);
const original = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === "object" && first !== null ? first : { port: first, host: args[1] };
  const host = options.host ?? "localhost";
  if (options.path === undefined && !LOOPBACK.has(host)) {
    process.stderr.write(`loopback-only guard: refused a connection to ${host}:${options.port}\n`);
    process.exit(99);
  }
  return original.apply(this, args);
};
