// Hand-built HTTP(S) requests, CSRs and client assertions: the emulator's tests never use a
// certbound client, so a bug shared by client and emulator cannot hide.
import { execFileSync } from "node:child_process";
import { constants, createHash, type KeyObject, randomUUID, sign, type X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { asn1 } from "@certbound/core/credential-kit";

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Trusted CA (PEM) for HTTPS. */
  ca?: string;
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string;
  key?: string;
  /** Pin the server by SHA-1 thumbprint instead of a CA (Service Fabric). */
  pinSha1?: string;
}

export interface Sent {
  status: number;
  headers: Record<string, string>;
  body: string;
  json: Record<string, unknown>;
}

/** One request on a fresh connection (no pooling across identities). */
export function send(url: string, options: SendOptions = {}): Promise<Sent> {
  const target = new URL(url);
  const isHttps = target.protocol === "https:";
  return new Promise((resolve, reject) => {
    const req = (isHttps ? httpsRequest : httpRequest)(
      target,
      {
        method: options.method ?? "GET",
        headers: options.headers ?? {},
        agent: false,
        ...(isHttps
          ? options.pinSha1
            ? { rejectUnauthorized: false }
            : { ca: options.ca, ...(options.cert ? { cert: options.cert, key: options.key } : {}) }
          : {}),
      },
      (res) => {
        if (options.pinSha1) {
          const presented = (res.socket as TLSSocket).getPeerX509Certificate();
          const thumb = presented ? createHash("sha1").update(presented.raw).digest("hex").toUpperCase() : "";
          if (thumb !== options.pinSha1.toUpperCase()) {
            res.destroy();
            reject(new Error(`server certificate ${thumb} does not match the pin`));
            return;
          }
        }
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(body) as Record<string, unknown>;
          } catch {
            // not JSON: tests that care look at body
          }
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = String(v);
          resolve({ status: res.statusCode ?? 0, headers, body, json });
        });
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** `application/x-www-form-urlencoded` POST options. */
export function formPost(fields: Record<string, string>, extra: SendOptions = {}): SendOptions {
  return {
    ...extra,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(extra.headers ?? {}) },
    body: new URLSearchParams(fields).toString(),
  };
}

/** The payload of a JWT, unverified. */
export function jwtPayload(token: unknown): Record<string, unknown> {
  const part = String(token).split(".")[1] ?? "";
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
}

export function jwtHeader(token: unknown): Record<string, unknown> {
  const part = String(token).split(".")[0] ?? "";
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** A client assertion signed with `key`; fields can be overridden or removed (undefined). */
export function clientAssertion(options: {
  clientId: string;
  audience: string;
  key: KeyObject;
  certificate: X509Certificate;
  alg?: "RS256" | "PS256" | "ES256";
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  nowSeconds?: number;
}): string {
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const alg = options.alg ?? "PS256";
  const header = clean({
    alg,
    typ: "JWT",
    "x5t#S256": createHash("sha256").update(options.certificate.raw).digest("base64url"),
    ...options.header,
  });
  const claims = clean({
    aud: options.audience,
    iss: options.clientId,
    sub: options.clientId,
    jti: randomUUID(),
    nbf: now,
    iat: now,
    exp: now + 600,
    ...options.claims,
  });
  const input = `${b64(header)}.${b64(claims)}`;
  const signature =
    alg === "PS256"
      ? sign("sha256", Buffer.from(input), {
          key: options.key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: 32,
        })
      : alg === "RS256"
        ? sign("sha256", Buffer.from(input), options.key)
        : sign("sha256", Buffer.from(input), { key: options.key, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

function clean(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function b64(o: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(o)).toString("base64url");
}

/** Builds a PKCS#10 request by hand (DER writer + node:crypto), with knobs to break it. */
export function buildCsr(options: {
  privateKey: KeyObject;
  publicKey: KeyObject;
  tenantId: string;
  clientId: string;
  cuIdJson: string;
  /** @default "pss" */
  signature?: "pss" | "pkcs1";
  /** Replace the subject's [oid, value, tag] list. */
  subject?: Array<[string, string, "ia5" | "utf8" | "printable"]>;
  /** Extra attributes after cuId. */
  extraAttribute?: boolean;
  /**
   * Parameters of the SHA-256 AlgorithmIdentifiers in the PSS parameters: a NULL (OpenSSL's
   * habit), none (.NET's, RFC 5754), or something else. @default "null"
   */
  hashParameters?: "null" | "absent" | "junk";
}): Buffer {
  const subject =
    options.subject ??
    ([
      ["0.9.2342.19200300.100.1.25", options.tenantId, "ia5"],
      ["2.5.4.3", options.clientId, "utf8"],
    ] as Array<[string, string, "ia5" | "utf8" | "printable"]>);
  const text = (value: string, tag: "ia5" | "utf8" | "printable") =>
    tag === "ia5"
      ? asn1.ia5String(value)
      : tag === "printable"
        ? asn1.tlv(0x13, Buffer.from(value, "ascii"))
        : asn1.utf8String(value);
  const name = asn1.sequence(
    ...subject.map(([oid, value, tag]) => asn1.set(asn1.sequence(asn1.oid(oid), text(value, tag)))),
  );
  const attributes = [
    asn1.sequence(asn1.oid("1.3.6.1.4.1.311.90.2.10"), asn1.set(asn1.utf8String(options.cuIdJson))),
    ...(options.extraAttribute
      ? [asn1.sequence(asn1.oid("1.2.840.113549.1.9.7"), asn1.set(asn1.utf8String("challenge")))]
      : []),
  ];
  const info = asn1.sequence(
    asn1.integer(0),
    name,
    options.publicKey.export({ type: "spki", format: "der" }),
    asn1.tlv(0xa0, Buffer.concat(attributes)),
  );
  const hashParameters = { null: [asn1.nullValue()], absent: [], junk: [asn1.integer(7)] }[
    options.hashParameters ?? "null"
  ];
  const sha256 = asn1.sequence(asn1.oid("2.16.840.1.101.3.4.2.1"), ...hashParameters);
  const pss = options.signature !== "pkcs1";
  const algorithm = pss
    ? asn1.sequence(
        asn1.oid("1.2.840.113549.1.1.10"),
        asn1.sequence(
          asn1.explicit(0, sha256),
          asn1.explicit(1, asn1.sequence(asn1.oid("1.2.840.113549.1.1.8"), sha256)),
          asn1.explicit(2, asn1.integer(32)),
        ),
      )
    : asn1.sequence(asn1.oid("1.2.840.113549.1.1.11"), asn1.nullValue());
  const signature = pss
    ? sign("sha256", info, {
        key: options.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      })
    : sign("sha256", info, options.privateKey);
  return asn1.sequence(info, algorithm, asn1.bitString(signature));
}

/** Runs openssl in `dir`, returning stdout as a Buffer. */
export function openssl(dir: string, args: string[], input?: Buffer): Buffer {
  return execFileSync("openssl", args, { cwd: dir, input, stdio: ["pipe", "pipe", "pipe"] });
}

/** A fresh temporary directory. */
export function tempDir(prefix = "certbound-emulator-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a file in `dir` and returns its path. */
export function writeIn(dir: string, name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** PEM of a DER certificate. */
export function derToPem(der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}
