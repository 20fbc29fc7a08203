// Which region the app uses, decided once when the client is created from `azureRegion` and the
// environment, with MSAL.NET's rules (AppConfig/ConfidentialClientApplicationBuilder.cs
// ValidateAndUpdateRegion, Instance/Region/RegionManager.cs GetAzureRegionAsync).
import { isValidRegionName } from "./region-name";

/** How the client picks its region; see {@link resolveRegionSetting}. @internal */
export type RegionSetting =
  /** Global endpoints. `reason` says why, for the log. */
  | {
      readonly mode: "global";
      readonly reason: "not configured" | "MSAL_DISABLE_REGION" | "DisableMsalForceRegion" | "invalid";
    }
  /** Detect: env `REGION_NAME`, then IMDS (see detectRegion). */
  | { readonly mode: "auto" }
  /** A valid region name, lower-cased, from the option or from env `MSAL_FORCE_REGION`. */
  | { readonly mode: "fixed"; readonly region: string; readonly source: "option" | "MSAL_FORCE_REGION" };

/**
 * The keywords that ask for auto-detection: certbound's `"auto"` and MSAL's
 * `ConfidentialClientApplication.AttemptRegionDiscovery` (`"TryAutoDetect"`), in any case.
 * @internal
 * @example
 * ```ts
 * isAutoDetect("TryAutoDetect"); // true
 * ```
 */
export function isAutoDetect(value: string): boolean {
  const lower = value.toLowerCase();
  return lower === "auto" || lower === "tryautodetect";
}

// MSAL's ConfidentialClientApplicationBuilder.DisableForceRegion: "no region, whatever
// MSAL_FORCE_REGION says" (compared case-insensitively there too).
const isDisableForceRegion = (value: string) => value.toLowerCase() === "disablemsalforceregion";

/** A region name as given (option or `MSAL_FORCE_REGION`): used as-is when valid, else global. */
function fixedOrGlobal(value: string, source: "option" | "MSAL_FORCE_REGION"): RegionSetting {
  if (isAutoDetect(value)) return { mode: "auto" };
  if (isDisableForceRegion(value)) return { mode: "global", reason: "DisableMsalForceRegion" };
  // Never put an invalid name in front of a trusted host (RegionManager.IsValidRegionName).
  return isValidRegionName(value)
    ? { mode: "fixed", region: value.toLowerCase(), source }
    : { mode: "global", reason: "invalid" };
}

/**
 * Decides the region setting from the `azureRegion` option and the environment, as MSAL.NET does:
 * - env `MSAL_DISABLE_REGION` set (any non-empty value): global endpoints, whatever else is set;
 * - `"DisableMsalForceRegion"`: global endpoints, and `MSAL_FORCE_REGION` is ignored;
 * - no `azureRegion`: env `MSAL_FORCE_REGION` when set (how operators force a region without a code
 *   change), else global;
 * - `"auto"` / `"TryAutoDetect"`: detect (env `REGION_NAME`, then IMDS); `MSAL_FORCE_REGION` is ignored;
 * - any other value: that region, when it is letters and digits only, else global.
 * The keywords are never used as host names.
 *
 * @internal
 * @example
 * ```ts
 * resolveRegionSetting(undefined, { MSAL_FORCE_REGION: "eastus" }); // { mode: "fixed", region: "eastus", source: "MSAL_FORCE_REGION" }
 * resolveRegionSetting("auto", { MSAL_FORCE_REGION: "eastus" }); // { mode: "auto" }
 * ```
 */
export function resolveRegionSetting(
  azureRegion: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): RegionSetting {
  if (env.MSAL_DISABLE_REGION) return { mode: "global", reason: "MSAL_DISABLE_REGION" };
  if (azureRegion !== undefined) return fixedOrGlobal(azureRegion, "option");
  const forced = env.MSAL_FORCE_REGION;
  return forced ? fixedOrGlobal(forced, "MSAL_FORCE_REGION") : { mode: "global", reason: "not configured" };
}
