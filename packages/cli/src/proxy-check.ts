import { isIPv4 } from "node:net";

const IMDS_ADDRESS = "169.254.169.254";
const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

/** A proxy URL without its user name and password (they are secrets). */
export function withoutCredentials(value: string): string {
  try {
    const url = new URL(value);
    url.username = "";
    url.password = "";
    return url.toString().replace(/\/$/, "");
  } catch {
    // Not a URL: show only what cannot be a credential.
    return value.includes("@") ? `…@${value.slice(value.lastIndexOf("@") + 1)}` : value;
  }
}

function ipv4ToNumber(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

/** Whether one NO_PROXY entry exempts the IMDS address: `*`, the address, or a CIDR holding it. */
function exempts(entry: string): boolean {
  const value = entry.trim().replace(/^\./, "");
  if (value === "*" || value === IMDS_ADDRESS) return true;
  const [net, bitsText] = value.split("/");
  const bits = Number(bitsText);
  if (!net || !isIPv4(net) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (ipv4ToNumber(net) & mask) >>> 0 === (ipv4ToNumber(IMDS_ADDRESS) & mask) >>> 0;
}

/** The proxy variables set, and whether NO_PROXY keeps IMDS out of them. */
export function proxyFindings(env: Readonly<Record<string, string | undefined>>): {
  proxies: string[];
  imdsExempt: boolean;
} {
  const proxies = PROXY_VARIABLES.filter((name) => (env[name] ?? "").trim() !== "").map(
    (name) => `${name}=${withoutCredentials((env[name] as string).trim())}`,
  );
  const noProxy = `${env.NO_PROXY ?? ""},${env.no_proxy ?? ""}`;
  return { proxies, imdsExempt: noProxy.split(",").some(exempts) };
}
