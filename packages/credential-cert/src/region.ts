import type { HttpTransport } from "@certbound/core";
import { type Log, parseJsonBody, stringField } from "@certbound/core/credential-kit";
import { isValidRegionName } from "./region-name";

/**
 * Where the region came from: the `azureRegion` option, env `MSAL_FORCE_REGION` (both configured,
 * no detection), or auto-detection from env `REGION_NAME` or IMDS.
 * @public
 */
export type RegionSource = "option" | "MSAL_FORCE_REGION" | "REGION_NAME" | "imds";

/**
 * A region and where it came from.
 *
 * @public
 */
export interface DetectedRegion {
  readonly region: string;
  readonly source: RegionSource;
}

/**
 * Options of {@link detectRegion}.
 *
 * @public
 */
export interface DetectRegionOptions {
  /** The environment to read `REGION_NAME` from. */
  env: Readonly<Record<string, string | undefined>>;
  /** IMDS base URL, e.g. `http://169.254.169.254`. */
  imdsEndpoint: string;
  transport: HttpTransport;
  /** Trusted CAs, only relevant if IMDS is overridden with an https URL. */
  ca?: string | readonly string[] | undefined;
  /** Budget of the IMDS call. @default 2000 */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  log?: Log | undefined;
}

/**
 * The IMDS instance-metadata call that tells a VM its region.
 *
 * @public
 * @example
 * ```ts
 * const url = `${imdsEndpoint}${IMDS_COMPUTE_PATH}`;
 * ```
 */
export const IMDS_COMPUTE_PATH = "/metadata/instance/compute?api-version=2021-02-01";

/**
 * Auto-detects the Azure region (https://github.com/certbound/certbound/blob/main/docs/protocol.md#s2-2-region), as MSAL.NET's `RegionManager` does: env
 * `REGION_NAME` (spaces removed, lower-cased), then IMDS `/metadata/instance/compute` (`location`).
 * A value that is not letters and digits is ignored and the next source is asked. Resolves
 * `undefined` when none answers, which means the global host. Never throws for a failed lookup.
 * `MSAL_FORCE_REGION` is not read here: it applies only when the app configured no region (the
 * client decides that), never once the app asked for auto-detection.
 *
 * @public
 * @example
 * ```ts
 * const detected = await detectRegion({ env: process.env, imdsEndpoint: "http://169.254.169.254", transport });
 * console.log(detected?.region ?? "global");
 * ```
 */
export async function detectRegion(options: DetectRegionOptions): Promise<DetectedRegion | undefined> {
  const { env, log } = options;
  // REGION_NAME may hold a display name ("West US 2"): MSAL.NET removes the spaces and lower-cases
  // it (RegionManager.DiscoverAsync) before the letters-and-digits check.
  const fromEnv = env.REGION_NAME?.replaceAll(" ", "").toLowerCase();
  if (fromEnv) {
    if (isValidRegionName(fromEnv)) return { region: fromEnv, source: "REGION_NAME" };
    log?.warn("ignoring REGION_NAME: a region name has letters and digits only");
  }
  const url = `${options.imdsEndpoint.replace(/\/+$/, "")}${IMDS_COMPUTE_PATH}`;
  try {
    // No retries: off Azure IMDS is unreachable, and region lookup must not add seconds to a cold start.
    const response = await options.transport.send({
      method: "GET",
      url,
      headers: { metadata: "true", accept: "application/json" },
      proxy: "never",
      timeoutMs: options.timeoutMs ?? 2000,
      signal: options.signal,
      ca: options.ca,
    });
    if (response.status !== 200) {
      log?.info("region auto-detection: IMDS answered without a region; using the global endpoint", {
        status: response.status,
      });
      return undefined;
    }
    const location = stringField(
      parseJsonBody(response, { code: "invalid_options", what: "IMDS" }),
      "location",
    );
    if (isValidRegionName(location)) return { region: location.toLowerCase(), source: "imds" };
    log?.warn("region auto-detection: IMDS `location` is not a valid region name; using the global endpoint");
    return undefined;
  } catch (error) {
    log?.info("region auto-detection: IMDS is not reachable; using the global endpoint", {
      code: (error as { code?: unknown }).code,
    });
    return undefined;
  }
}
