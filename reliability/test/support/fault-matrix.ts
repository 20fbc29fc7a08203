// The fault matrix: one table, in code, of what every endpoint must do under every fault. The
// tests are generated from it (fault-matrix.test.ts) and so is the table in docs/reliability.md
// (a test checks that the document holds exactly the rendered table), so the two cannot drift.
//
// Every expectation follows docs/protocol.md: section 6 gives the retry schedules (token endpoint:
// one retry after 1 s on 5xx or timeout, none with Retry-After; IMDS: 1 s, 2 s, 4 s on 404, 408,
// 410, 429, 5xx and timeouts, 410 seven times 10 s apart; other managed-identity sources: 3 retries
// after max(1 s, Retry-After) on 404, 408, 429, 500, 503, 504 and timeouts), sections 2 to 4 the
// error codes. Faults are persistent (every attempt gets them) unless the column says "once".
import type { CertboundErrorCode } from "@certbound/core";
import type { EndpointName } from "@certbound/emulator";

/** What a cell ends with. */
export type Outcome =
  | { readonly kind: "token"; readonly tokenType: "mtls_pop" | "Bearer" }
  | { readonly kind: "response"; readonly status: number }
  | { readonly kind: "error"; readonly code: CertboundErrorCode; readonly status?: number };

/** The expected (and observed) behaviour of one cell. */
export interface Expectation {
  readonly outcome: Outcome;
  /** Every wait of the client's clock, in order: the retry delays. */
  readonly sleeps: readonly number[];
  /** Requests the emulator received, for each endpoint the flow touches. */
  readonly requests: Readonly<Partial<Record<EndpointName, number>>>;
}

/** The flows under test. */
export type TargetId =
  | "cert-pop"
  | "cert-bearer"
  | "msi-pop-platformmetadata"
  | "msi-pop-issuecredential"
  | "msi-pop-token"
  | "imds-v1"
  | "app-service"
  | "service-fabric"
  | "azure-arc"
  | "cloud-shell"
  | "machine-learning"
  | "resource";

/** Which retry rules of protocol.md section 6 apply. */
type PolicyClass = "token" | "imds" | "source" | "none";

export interface Target {
  readonly id: TargetId;
  readonly label: string;
  /** The endpoint the fault is injected into. */
  readonly endpoint: EndpointName;
  /** The endpoints the flow calls, in order; their request counts are asserted. */
  readonly flow: readonly EndpointName[];
  readonly policy: PolicyClass;
  /** Requests the faulted endpoint gets before the fault applies (Azure Arc's challenge). */
  readonly before: number;
}

export const TARGETS: readonly Target[] = [
  {
    id: "cert-pop",
    label: "credential-cert, mTLS PoP: Entra mTLS token endpoint",
    endpoint: "mtlsToken",
    flow: ["mtlsToken"],
    policy: "token",
    before: 0,
  },
  {
    id: "cert-bearer",
    label: "credential-cert, Bearer: Entra token endpoint (client assertion)",
    endpoint: "token",
    flow: ["token"],
    policy: "token",
    before: 0,
  },
  {
    id: "msi-pop-platformmetadata",
    label: "credential-msi, mTLS PoP: IMDS getplatformmetadata",
    endpoint: "getPlatformMetadata",
    flow: ["getPlatformMetadata", "issueCredential", "mtlsToken"],
    policy: "imds",
    before: 0,
  },
  {
    id: "msi-pop-issuecredential",
    label: "credential-msi, mTLS PoP: IMDS issuecredential",
    endpoint: "issueCredential",
    flow: ["getPlatformMetadata", "issueCredential", "mtlsToken"],
    policy: "imds",
    before: 0,
  },
  {
    id: "msi-pop-token",
    label: "credential-msi, mTLS PoP: Entra mTLS token endpoint",
    endpoint: "mtlsToken",
    flow: ["getPlatformMetadata", "issueCredential", "mtlsToken"],
    policy: "token",
    before: 0,
  },
  {
    id: "imds-v1",
    label: "credential-msi, Bearer: IMDS v1 token",
    endpoint: "imdsToken",
    flow: ["imdsToken"],
    policy: "imds",
    before: 0,
  },
  {
    id: "app-service",
    label: "credential-msi, Bearer: App Service",
    endpoint: "appService",
    flow: ["appService"],
    policy: "source",
    before: 0,
  },
  {
    id: "service-fabric",
    label: "credential-msi, Bearer: Service Fabric (HTTPS, pinned certificate)",
    endpoint: "serviceFabric",
    flow: ["serviceFabric"],
    policy: "source",
    before: 0,
  },
  {
    id: "azure-arc",
    label: "credential-msi, Bearer: Azure Arc (faults hit the request that answers the challenge)",
    endpoint: "azureArc",
    flow: ["azureArc"],
    policy: "source",
    before: 1,
  },
  {
    id: "cloud-shell",
    label: "credential-msi, Bearer: Cloud Shell",
    endpoint: "cloudShell",
    flow: ["cloudShell"],
    policy: "source",
    before: 0,
  },
  {
    id: "machine-learning",
    label: "credential-msi, Bearer: Azure Machine Learning",
    endpoint: "machineLearning",
    flow: ["machineLearning"],
    policy: "source",
    before: 0,
  },
  {
    id: "resource",
    label: "core ResourceCaller: protected resource over mTLS (an mtls_pop token from credential-cert)",
    endpoint: "resource",
    flow: ["resource"],
    policy: "none",
    before: 0,
  },
];

/** The faults (columns). */
export type ColumnId =
  | "400"
  | "401"
  | "404"
  | "408"
  | "410"
  | "429"
  | "429-retry-after-seconds"
  | "429-retry-after-date"
  | "500"
  | "502"
  | "503"
  | "504"
  | "503-retry-after"
  | "503-once"
  | "410-once"
  | "malformed-json"
  | "truncated-body"
  | "empty-body"
  | "body-over-cap"
  | "hang"
  | "hang-once"
  | "reset"
  | "reset-once"
  | "tls-handshake"
  | "wrong-token-type"
  | "missing-access-token"
  | "missing-expiry"
  | "missing-required-field"
  | "not-from-imds"
  | "expired-certificate"
  | "mismatched-certificate";

export interface Column {
  readonly id: ColumnId;
  readonly label: string;
}

export const COLUMNS: readonly Column[] = [
  { id: "400", label: "HTTP 400" },
  { id: "401", label: "HTTP 401" },
  { id: "404", label: "HTTP 404" },
  { id: "408", label: "HTTP 408" },
  { id: "410", label: "HTTP 410" },
  { id: "429", label: "HTTP 429 without Retry-After" },
  { id: "429-retry-after-seconds", label: "HTTP 429, `Retry-After: 3`" },
  { id: "429-retry-after-date", label: "HTTP 429, `Retry-After:` HTTP-date 5 s ahead" },
  { id: "500", label: "HTTP 500" },
  { id: "502", label: "HTTP 502" },
  { id: "503", label: "HTTP 503" },
  { id: "504", label: "HTTP 504" },
  { id: "503-retry-after", label: "HTTP 503, `Retry-After: 2`" },
  { id: "503-once", label: "HTTP 503 once, then normal" },
  { id: "410-once", label: "HTTP 410 once, then normal" },
  { id: "malformed-json", label: "200 with malformed JSON" },
  { id: "truncated-body", label: "200 with a truncated JSON body" },
  { id: "empty-body", label: "200 with an empty body" },
  { id: "body-over-cap", label: "200 with a body over the 1 MiB cap" },
  { id: "hang", label: "hang past the attempt timeout (every attempt)" },
  { id: "hang-once", label: "hang past the attempt timeout once" },
  { id: "reset", label: "connection reset (every attempt)" },
  { id: "reset-once", label: "connection reset once" },
  { id: "tls-handshake", label: "TLS handshake failure" },
  { id: "wrong-token-type", label: "200 with the wrong `token_type`" },
  { id: "missing-access-token", label: "200 without `access_token`" },
  { id: "missing-expiry", label: "200 without `expires_in`/`expires_on`" },
  { id: "missing-required-field", label: "200 without a required field" },
  { id: "not-from-imds", label: "200 whose `Server` header does not say IMDS" },
  { id: "expired-certificate", label: "expired certificate" },
  { id: "mismatched-certificate", label: "mismatched certificate" },
];

/** One cell: an expectation, or the reason the fault cannot happen on this endpoint. */
export type Cell =
  | { readonly target: Target; readonly column: Column; readonly expected: Expectation }
  | { readonly target: Target; readonly column: Column; readonly notApplicable: string };

type Rule = { outcome: Outcome; sleeps: readonly number[]; attempts: number } | { na: string };

const error = (code: CertboundErrorCode, status?: number): Outcome =>
  status === undefined ? { kind: "error", code } : { kind: "error", code, status };
const repeat = (times: number, ms: number): number[] => Array.from({ length: times }, () => ms);
const IMDS_SCHEDULE = [1000, 2000, 4000];
const SOURCE_SCHEDULE = [1000, 1000, 1000];
const STATUS: Partial<Record<ColumnId, number>> = {
  "400": 400,
  "401": 401,
  "404": 404,
  "408": 408,
  "410": 410,
  "429": 429,
  "429-retry-after-seconds": 429,
  "429-retry-after-date": 429,
  "500": 500,
  "502": 502,
  "503": 503,
  "504": 504,
  "503-retry-after": 503,
};

function tokenOf(target: Target): Outcome {
  return {
    kind: "token",
    tokenType:
      target.id === "cert-bearer" || target.policy === "source" || target.id === "imds-v1"
        ? "Bearer"
        : "mtls_pop",
  };
}

const NOT_HTTPS = "n/a: the endpoint is plain HTTP (as the real one is), there is no TLS handshake";
const NOT_A_TOKEN = "n/a: the answer is not a token response";

/** The rule of one cell, from protocol.md. */
function rule(target: Target, column: ColumnId): Rule {
  const ok = tokenOf(target);
  const status = STATUS[column];
  switch (target.policy) {
    case "token": {
      const badBody = error("invalid_token_response");
      if (status !== undefined) {
        // 5xx: one retry after 1 s, but never when the answer carries Retry-After.
        return status >= 500 && column !== "503-retry-after"
          ? { outcome: error("service_error", status), sleeps: [1000], attempts: 2 }
          : { outcome: error("service_error", status), sleeps: [], attempts: 1 };
      }
      switch (column) {
        case "503-once":
        case "hang-once":
        case "reset-once":
          return { outcome: ok, sleeps: [1000], attempts: 2 };
        case "410-once":
          return { outcome: error("service_error", 410), sleeps: [], attempts: 1 };
        case "malformed-json":
        case "truncated-body":
        case "empty-body":
        case "missing-access-token":
        case "missing-expiry":
          return { outcome: badBody, sleeps: [], attempts: 1 };
        case "body-over-cap":
          return { outcome: error("response_too_large"), sleeps: [], attempts: 1 };
        case "hang":
          return { outcome: error("timeout"), sleeps: [1000], attempts: 2 };
        case "reset":
          // On the IMDS v2 token request a reset means the certificate may be refused: one re-mint
          // (protocol.md section 3 step 6), then the same single retry.
          return target.id === "msi-pop-token"
            ? { outcome: error("network_error"), sleeps: [1000, 1000], attempts: 4 }
            : { outcome: error("network_error"), sleeps: [1000], attempts: 2 };
        case "tls-handshake":
          return { outcome: error("tls_handshake_failed"), sleeps: [], attempts: 0 };
        case "wrong-token-type":
          return { outcome: error("token_type_mismatch"), sleeps: [], attempts: 1 };
        case "missing-required-field":
        case "not-from-imds":
          return { na: "n/a: IMDS v2 only" };
        case "expired-certificate":
          return target.id === "msi-pop-token"
            ? { na: "n/a: IMDS-issued certificates are checked when issued (see issuecredential)" }
            : { outcome: error("certificate_expired"), sleeps: [], attempts: 0 };
        case "mismatched-certificate":
          return target.id === "msi-pop-token"
            ? { outcome: ok, sleeps: [], attempts: 2 }
            : { outcome: error("service_error", 401), sleeps: [], attempts: 1 };
        default:
          return { na: `unhandled column ${column}` };
      }
    }
    case "imds": {
      const v2 = target.id !== "imds-v1";
      // IMDS v2 failures are managed_identity_request_failed (MSAL.NET ImdsV2ManagedIdentitySource),
      // except getplatformmetadata's 404: IMDS v1 only.
      const failed = v2 ? "managed_identity_request_failed" : "service_error";
      if (status !== undefined) {
        if (status === 400 || status === 401) {
          return { outcome: error(failed, status), sleeps: [], attempts: 1 };
        }
        if (status === 410) {
          return { outcome: error(failed, 410), sleeps: repeat(7, 10_000), attempts: 8 };
        }
        const code =
          status === 404 && target.id === "msi-pop-platformmetadata"
            ? "mtls_pop_token_not_supported_in_imds_v1"
            : failed;
        return { outcome: error(code, status), sleeps: IMDS_SCHEDULE, attempts: 4 };
      }
      switch (column) {
        case "503-once":
        case "hang-once":
        case "reset-once":
          return { outcome: ok, sleeps: [1000], attempts: 2 };
        case "410-once":
          return { outcome: ok, sleeps: [10_000], attempts: 2 };
        case "malformed-json":
        case "truncated-body":
        case "empty-body":
          return { outcome: error("managed_identity_response_parse_failure"), sleeps: [], attempts: 1 };
        case "body-over-cap":
          return { outcome: error("response_too_large"), sleeps: [], attempts: 1 };
        case "hang":
          return { outcome: error("timeout"), sleeps: IMDS_SCHEDULE, attempts: 4 };
        case "reset":
          return { outcome: error("network_error"), sleeps: IMDS_SCHEDULE, attempts: 4 };
        case "tls-handshake":
          return { na: NOT_HTTPS };
        case "wrong-token-type":
          // protocol.md section 4 checks access_token and expiry, not token_type.
          return v2 ? { na: NOT_A_TOKEN } : { outcome: ok, sleeps: [], attempts: 1 };
        case "missing-access-token":
        case "missing-expiry":
          return v2
            ? { na: NOT_A_TOKEN }
            : { outcome: error("managed_identity_request_failed"), sleeps: [], attempts: 1 };
        case "missing-required-field":
          return v2
            ? { outcome: error("managed_identity_request_failed"), sleeps: [], attempts: 1 }
            : { na: "n/a: see the access_token and expiry columns" };
        case "not-from-imds":
          return target.id === "msi-pop-platformmetadata"
            ? { outcome: error("managed_identity_request_failed"), sleeps: [], attempts: 1 }
            : { na: "n/a: the `Server` header is checked on getplatformmetadata only" };
        case "expired-certificate":
          return target.id === "msi-pop-issuecredential"
            ? { outcome: error("certificate_expired"), sleeps: [], attempts: 1 }
            : { na: "n/a: no certificate in this answer" };
        case "mismatched-certificate":
          return target.id === "msi-pop-issuecredential"
            ? { outcome: error("invalid_certificate"), sleeps: [], attempts: 1 }
            : { na: "n/a: no certificate in this answer" };
        default:
          return { na: `unhandled column ${column}` };
      }
    }
    case "source": {
      if (status !== undefined) {
        if (![404, 408, 429, 500, 503, 504].includes(status)) {
          return { outcome: error("service_error", status), sleeps: [], attempts: 1 };
        }
        const sleeps =
          column === "429-retry-after-seconds"
            ? [3000, 3000, 3000]
            : column === "503-retry-after"
              ? [2000, 2000, 2000]
              : column === "429-retry-after-date"
                ? // The date is absolute: 5 s at the first answer, then the clock has passed it.
                  [5000, 1000, 1000]
                : SOURCE_SCHEDULE;
        return { outcome: error("service_error", status), sleeps, attempts: 4 };
      }
      switch (column) {
        case "503-once":
        case "hang-once":
        case "reset-once":
          return { outcome: ok, sleeps: [1000], attempts: 2 };
        case "410-once":
          return { outcome: error("service_error", 410), sleeps: [], attempts: 1 };
        case "malformed-json":
        case "truncated-body":
        case "empty-body":
          return { outcome: error("managed_identity_response_parse_failure"), sleeps: [], attempts: 1 };
        case "body-over-cap":
          return { outcome: error("response_too_large"), sleeps: [], attempts: 1 };
        case "hang":
          return { outcome: error("timeout"), sleeps: SOURCE_SCHEDULE, attempts: 4 };
        case "reset":
          return { outcome: error("network_error"), sleeps: SOURCE_SCHEDULE, attempts: 4 };
        case "tls-handshake":
          return target.id === "service-fabric"
            ? { outcome: error("tls_handshake_failed"), sleeps: [], attempts: 0 }
            : { na: NOT_HTTPS };
        case "wrong-token-type":
          return { outcome: ok, sleeps: [], attempts: 1 };
        case "missing-access-token":
        case "missing-expiry":
          return { outcome: error("managed_identity_request_failed"), sleeps: [], attempts: 1 };
        case "missing-required-field":
        case "not-from-imds":
          return { na: "n/a: IMDS v2 only" };
        case "expired-certificate":
        case "mismatched-certificate":
          return { na: "n/a: no client certificate on this source" };
        default:
          return { na: `unhandled column ${column}` };
      }
    }
    case "none": {
      if (status !== undefined) return { outcome: { kind: "response", status }, sleeps: [], attempts: 1 };
      switch (column) {
        case "503-once":
          return { outcome: { kind: "response", status: 503 }, sleeps: [], attempts: 1 };
        case "410-once":
          return { outcome: { kind: "response", status: 410 }, sleeps: [], attempts: 1 };
        case "malformed-json":
        case "truncated-body":
        case "empty-body":
          // The resource's body is the application's business: handed over as received.
          return { outcome: { kind: "response", status: 200 }, sleeps: [], attempts: 1 };
        case "body-over-cap":
          return { outcome: error("response_too_large"), sleeps: [], attempts: 1 };
        case "hang":
        case "hang-once":
          // A resource call is the application's request: never retried by certbound.
          return { outcome: error("timeout"), sleeps: [], attempts: 1 };
        case "reset":
        case "reset-once":
          return { outcome: error("network_error"), sleeps: [], attempts: 1 };
        case "tls-handshake":
          return { outcome: error("tls_handshake_failed"), sleeps: [], attempts: 0 };
        case "expired-certificate":
          // The token outlived its expiry (the clock is 2 h later): the resource answers 401 invalid_token.
          return { outcome: error("resource_unauthorized"), sleeps: [], attempts: 1 };
        case "mismatched-certificate":
          return { outcome: error("binding_certificate_mismatch"), sleeps: [], attempts: 1 };
        default:
          return { na: NOT_A_TOKEN };
      }
    }
  }
}

/** Request counts per endpoint of the flow: earlier steps once, later steps only on success. */
function requestsFor(target: Target, column: ColumnId, r: { outcome: Outcome; attempts: number }) {
  const counts: Partial<Record<EndpointName, number>> = {};
  const at = target.flow.indexOf(target.endpoint);
  const succeeded = r.outcome.kind !== "error";
  target.flow.forEach((endpoint, i) => {
    counts[endpoint] = i < at ? 1 : i === at ? target.before + r.attempts : succeeded ? 1 : 0;
  });
  // protocol.md section 3 step 6: a failed handshake, invalid_client or a connection reset drops the
  // certificate, reads getplatformmetadata again and mints a new one, once.
  if (
    target.id === "msi-pop-token" &&
    ["tls-handshake", "mismatched-certificate", "reset"].includes(column)
  ) {
    counts.getPlatformMetadata = 2;
    counts.issueCredential = 2;
  }
  return counts;
}

/** Every cell of the matrix, in table order. */
export const CELLS: readonly Cell[] = TARGETS.flatMap((target) =>
  COLUMNS.map((column): Cell => {
    const r = rule(target, column.id);
    if ("na" in r) return { target, column, notApplicable: r.na };
    return {
      target,
      column,
      expected: { outcome: r.outcome, sleeps: r.sleeps, requests: requestsFor(target, column.id, r) },
    };
  }),
);

/** The cells that are tests. */
export const TESTED_CELLS = CELLS.filter(
  (cell): cell is Extract<Cell, { expected: Expectation }> => "expected" in cell,
);

function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case "token":
      return `token (\`${outcome.tokenType}\`)`;
    case "response":
      return `response HTTP ${outcome.status} returned to the caller`;
    case "error":
      return `\`${outcome.code}\`${outcome.status === undefined ? "" : ` (HTTP ${outcome.status})`}`;
  }
}

function describeSleeps(sleeps: readonly number[]): string {
  if (sleeps.length === 0) return "none";
  const first = sleeps[0];
  if (sleeps.length > 2 && sleeps.every((s) => s === first)) return `${sleeps.length} x ${first}`;
  return sleeps.join(", ");
}

/** The matrix as Markdown: one table per endpoint. */
export function renderMatrix(): string {
  const lines: string[] = [];
  const tested = TESTED_CELLS.length;
  lines.push(
    `${CELLS.length} cells (${TARGETS.length} endpoints x ${COLUMNS.length} faults): ${tested} tested, ${CELLS.length - tested} not applicable.`,
    "",
  );
  for (const target of TARGETS) {
    lines.push(`#### ${target.label}`, "");
    lines.push("| fault | expected outcome | retry delays (ms) | requests received |");
    lines.push("|---|---|---|---|");
    for (const cell of CELLS.filter((c) => c.target === target)) {
      if ("notApplicable" in cell) {
        lines.push(`| ${cell.column.label} | ${cell.notApplicable} | | |`);
        continue;
      }
      const { outcome, sleeps, requests } = cell.expected;
      const counts = Object.entries(requests)
        .map(([endpoint, n]) => `${endpoint} ${n}`)
        .join(", ");
      lines.push(
        `| ${cell.column.label} | ${describeOutcome(outcome)} | ${describeSleeps(sleeps)} | ${counts} |`,
      );
    }
    lines.push("");
  }
  return lines.join("\n").trimEnd();
}
