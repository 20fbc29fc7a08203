// Secret hygiene: collect everything a user could ever see of a run (log lines, and every error's
// message, stack, cause chain, enumerable and own fields, and its util.inspect rendering), then
// look for each secret in it. Keys are looked for in every encoding a leak could take.
import { KeyObject, X509Certificate } from "node:crypto";
import { inspect } from "node:util";

/** One place a secret was found. */
export interface Leak {
  readonly secret: string;
  readonly where: string;
  /** A little text around the find, with the secret masked. */
  readonly context: string;
}

/** Collects texts and secrets; {@link SecretScanner.leaks} matches them. */
export class SecretScanner {
  readonly #secrets = new Map<string, string>();
  readonly #texts: Array<{ where: string; text: string }> = [];

  /** Remembers a secret under a label. Very short values are refused: they would match by chance. */
  secret(label: string, value: string): void {
    if (value.length < 12) throw new Error(`reliability: secret ${label} is too short to look for`);
    this.#secrets.set(value, label);
  }

  /**
   * Remembers a private key in the encodings a leak could take: each line of its PKCS#8 and
   * (RSA) PKCS#1 / (EC) SEC1 PEM, its DER in base64 and base64url, and its JWK private fields.
   */
  privateKey(label: string, key: KeyObject): void {
    const pems = [key.export({ type: "pkcs8", format: "pem" }) as string];
    pems.push(
      key.asymmetricKeyType === "rsa"
        ? (key.export({ type: "pkcs1", format: "pem" }) as string)
        : (key.export({ type: "sec1", format: "pem" }) as string),
    );
    for (const pem of pems) {
      for (const line of pem.split("\n")) {
        if (line.length >= 40 && !line.startsWith("-----")) this.secret(`${label} (PEM line)`, line);
      }
    }
    const der = key.export({ type: "pkcs8", format: "der" });
    // The middle of the DER holds the private material: a slice is enough to recognise it.
    const middle = der.subarray(Math.floor(der.length / 3), Math.floor(der.length / 3) + 48);
    this.secret(`${label} (DER, base64)`, middle.toString("base64").slice(4, 40));
    this.secret(`${label} (DER, base64url)`, middle.toString("base64url").slice(4, 40));
    this.secret(`${label} (DER, hex)`, middle.toString("hex").slice(0, 48));
    const jwk = key.export({ format: "jwk" }) as Record<string, unknown>;
    for (const field of ["d", "p", "q", "dp", "dq", "qi"]) {
      const value = jwk[field];
      if (typeof value === "string" && value.length >= 12)
        this.secret(`${label} (JWK ${field})`, value.slice(0, 40));
    }
  }

  /** Adds everything reachable from `value` (deeply, cycles guarded) under `where`. */
  collect(where: string, value: unknown): void {
    const seen = new Set<unknown>();
    const add = (path: string, text: string): void => {
      this.#texts.push({ where: path, text });
    };
    const walk = (path: string, v: unknown, depth: number): void => {
      if (depth > 12) return;
      if (typeof v === "string") {
        add(path, v);
        return;
      }
      if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean" || typeof v === "symbol") {
        add(path, String(v));
        return;
      }
      if (typeof v === "function" || v === null || v === undefined) return;
      if (seen.has(v)) return;
      seen.add(v);
      if (v instanceof Uint8Array) {
        const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        add(
          `${path}<bytes>`,
          `${b.toString("utf8")} ${b.toString("base64")} ${b.toString("base64url")} ${b.toString("hex")}`,
        );
        return;
      }
      if (v instanceof KeyObject) {
        // A private key reachable from a log line or an error is a leak whatever its encoding.
        if (v.type === "private")
          add(`${path}<KeyObject>`, v.export({ type: "pkcs8", format: "pem" }) as string);
        return;
      }
      if (v instanceof X509Certificate) {
        add(`${path}<X509Certificate>`, v.toString());
        return;
      }
      if (v instanceof Error) {
        add(`${path}.message`, v.message);
        add(`${path}.stack`, v.stack ?? "");
        add(`${path}<inspect>`, inspect(v, { depth: 8, showHidden: false }));
      }
      if (v instanceof Map) {
        for (const [k, item] of v) {
          walk(`${path}<map key>`, k, depth + 1);
          walk(`${path}<map>`, item, depth + 1);
        }
        return;
      }
      if (v instanceof Set) {
        for (const item of v) walk(`${path}<set>`, item, depth + 1);
        return;
      }
      // Own properties, enumerable or not (an Error's `cause` is not enumerable), and symbols.
      for (const key of Reflect.ownKeys(v as object)) {
        let item: unknown;
        try {
          item = (v as Record<PropertyKey, unknown>)[key];
        } catch {
          continue;
        }
        walk(`${path}.${String(key)}`, item, depth + 1);
      }
    };
    walk(where, value, 0);
  }

  /** Every secret found in every collected text. */
  leaks(): Leak[] {
    const found: Leak[] = [];
    for (const { where, text } of this.#texts) {
      for (const [secret, label] of this.#secrets) {
        const at = text.indexOf(secret);
        if (at === -1) continue;
        const around = text
          .slice(Math.max(0, at - 60), at + secret.length + 60)
          .replace(secret, `<${label}>`);
        found.push({ secret: label, where, context: around });
      }
    }
    return found;
  }

  /** How many texts were collected (a scan of nothing proves nothing). */
  get collected(): number {
    return this.#texts.length;
  }

  /** Labels of the secrets registered. */
  get labels(): string[] {
    return [...new Set(this.#secrets.values())];
  }
}
