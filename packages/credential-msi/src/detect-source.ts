import { invalidOptions } from "@certbound/core/credential-kit";
import { PACKAGE } from "./package-name";

/**
 * The managed-identity sources certbound knows, named as `getManagedIdentitySource()` reports them.
 *
 * @public
 * @example
 * ```ts
 * const { source } = await msi.getManagedIdentitySource();
 * if (source === "appService") console.log("running on App Service");
 * ```
 */
export type ManagedIdentitySourceName =
  | "imds"
  | "appService"
  | "serviceFabric"
  | "azureArc"
  | "cloudShell"
  | "machineLearning";

/** A detected source with what it needs to be called. Secrets stay here, never in messages. */
export type DetectedSource =
  | { readonly name: "imds"; readonly endpoint: string }
  | { readonly name: "appService"; readonly endpoint: string; readonly secret: string }
  | {
      readonly name: "serviceFabric";
      readonly endpoint: string;
      readonly secret: string;
      readonly thumbprint: string;
    }
  | {
      readonly name: "machineLearning";
      readonly endpoint: string;
      readonly secret: string;
      /** `DEFAULT_IDENTITY_CLIENT_ID`: the workspace's system identity, sent as `clientid`. */
      readonly defaultClientId: string | undefined;
    }
  | { readonly name: "cloudShell"; readonly endpoint: string }
  | { readonly name: "azureArc"; readonly endpoint: string };

/** Where the Azure Arc agent listens when `IDENTITY_ENDPOINT` is not set (only `himds` was found). */
export const ARC_DEFAULT_ENDPOINT = "http://127.0.0.1:40342/metadata/identity/oauth2/token";

/** What {@link detectManagedIdentitySource} looks at. */
export interface DetectionInput {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The resolved IMDS base URL, used when no other source is detected. */
  readonly imdsEndpoint: string;
  readonly fileExists: (path: string) => boolean;
  readonly platform: NodeJS.Platform;
}

/**
 * Picks the managed-identity source from the environment, in the order of https://github.com/certbound/certbound/blob/main/docs/protocol.md#s4-1-detection:
 * App Service / Service Fabric, Machine Learning, Cloud Shell, Azure Arc, then IMDS (no probe).
 *
 * @example
 * ```ts
 * const source = detectManagedIdentitySource({ env: process.env, imdsEndpoint: "http://169.254.169.254", fileExists: existsSync, platform: process.platform });
 * ```
 */
export function detectManagedIdentitySource(input: DetectionInput): DetectedSource {
  const env = (name: string): string | undefined => {
    const value = input.env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const identityEndpoint = env("IDENTITY_ENDPOINT");
  const identityHeader = env("IDENTITY_HEADER");
  if (identityEndpoint && identityHeader) {
    const thumbprint = env("IDENTITY_SERVER_THUMBPRINT");
    if (thumbprint) {
      return {
        name: "serviceFabric",
        endpoint: checkUrl(identityEndpoint, "IDENTITY_ENDPOINT"),
        secret: identityHeader,
        thumbprint: checkThumbprint(thumbprint),
      };
    }
    return {
      name: "appService",
      endpoint: checkUrl(identityEndpoint, "IDENTITY_ENDPOINT"),
      secret: identityHeader,
    };
  }
  const msiEndpoint = env("MSI_ENDPOINT");
  const msiSecret = env("MSI_SECRET");
  if (msiEndpoint && msiSecret) {
    return {
      name: "machineLearning",
      endpoint: checkUrl(msiEndpoint, "MSI_ENDPOINT"),
      secret: msiSecret,
      defaultClientId: env("DEFAULT_IDENTITY_CLIENT_ID"),
    };
  }
  if (msiEndpoint) return { name: "cloudShell", endpoint: checkUrl(msiEndpoint, "MSI_ENDPOINT") };
  if (identityEndpoint && env("IMDS_ENDPOINT")) {
    return { name: "azureArc", endpoint: checkUrl(identityEndpoint, "IDENTITY_ENDPOINT") };
  }
  const himds = himdsPath(input.platform, input.env);
  if (himds !== undefined && input.fileExists(himds)) {
    return {
      name: "azureArc",
      endpoint: identityEndpoint ? checkUrl(identityEndpoint, "IDENTITY_ENDPOINT") : ARC_DEFAULT_ENDPOINT,
    };
  }
  return { name: "imds", endpoint: input.imdsEndpoint };
}

/** The Azure Arc agent's executable, whose presence means "this machine is Arc-enabled". */
export function himdsPath(
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (platform === "linux") return "/opt/azcmagent/bin/himds";
  if (platform === "win32") {
    return `${env.ProgramFiles ?? "C:\\Program Files"}\\AzureConnectedMachineAgent\\himds.exe`;
  }
  return undefined;
}

/** The folder the Azure Arc agent writes its challenge key files to. */
export function defaultArcTokenFolder(
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
): string {
  return platform === "win32"
    ? `${env.ProgramData ?? "C:\\ProgramData"}\\AzureConnectedMachineAgent\\Tokens`
    : "/var/opt/azcmagent/tokens";
}

function checkUrl(value: string, variable: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidOptions(
      PACKAGE,
      `the environment variable ${variable} is not a valid URL. It is set by the hosting platform; check the app's configuration.`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalidOptions(PACKAGE, `the environment variable ${variable} must be an http or https URL.`);
  }
  return value;
}

function checkThumbprint(value: string): string {
  const hex = value.replace(/:/g, "");
  if (!/^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$/.test(hex)) {
    throw invalidOptions(
      PACKAGE,
      "the environment variable IDENTITY_SERVER_THUMBPRINT must be a hex SHA-1 (40 digits) or SHA-256 (64 digits) thumbprint.",
    );
  }
  return hex;
}
