import { describe, expect, it } from "vitest";
import {
  ARC_DEFAULT_ENDPOINT,
  defaultArcTokenFolder,
  detectManagedIdentitySource,
  himdsPath,
} from "../src/detect-source";

const imdsEndpoint = "http://169.254.169.254";
const none = (_path: string): boolean => false;
const detect = (env: Record<string, string>, fileExists = none, platform: NodeJS.Platform = "linux") =>
  detectManagedIdentitySource({ env, imdsEndpoint, fileExists, platform });

describe("detectManagedIdentitySource (protocol.md section 4 order)", () => {
  it("falls back to IMDS without probing", () => {
    expect(detect({})).toEqual({ name: "imds", endpoint: imdsEndpoint });
  });

  it("IDENTITY_ENDPOINT + IDENTITY_HEADER is App Service, with a thumbprint Service Fabric", () => {
    const appService = { IDENTITY_ENDPOINT: "http://127.0.0.1:41000/msi/token", IDENTITY_HEADER: "h" };
    expect(detect(appService)).toEqual({
      name: "appService",
      endpoint: appService.IDENTITY_ENDPOINT,
      secret: "h",
    });
    const thumbprint = Array.from({ length: 20 }, (_, i) => (i * 13).toString(16).padStart(2, "0")).join(":");
    expect(detect({ ...appService, IDENTITY_SERVER_THUMBPRINT: thumbprint })).toEqual({
      name: "serviceFabric",
      endpoint: appService.IDENTITY_ENDPOINT,
      secret: "h",
      thumbprint: thumbprint.replace(/:/g, ""),
    });
  });

  it("MSI_SECRET + MSI_ENDPOINT is Machine Learning, MSI_ENDPOINT alone Cloud Shell", () => {
    expect(
      detect({ MSI_ENDPOINT: "http://localhost:1/token", MSI_SECRET: "s", DEFAULT_IDENTITY_CLIENT_ID: "c" }),
    ).toEqual({
      name: "machineLearning",
      endpoint: "http://localhost:1/token",
      secret: "s",
      defaultClientId: "c",
    });
    expect(detect({ MSI_ENDPOINT: "http://localhost:50342/oauth2/token" })).toEqual({
      name: "cloudShell",
      endpoint: "http://localhost:50342/oauth2/token",
    });
  });

  it("App Service wins over Machine Learning and Cloud Shell variables", () => {
    expect(
      detect({
        IDENTITY_ENDPOINT: "http://a/",
        IDENTITY_HEADER: "h",
        MSI_ENDPOINT: "http://b/",
        MSI_SECRET: "s",
      }).name,
    ).toBe("appService");
  });

  it("IDENTITY_ENDPOINT + IMDS_ENDPOINT, or the himds file, is Azure Arc", () => {
    expect(
      detect({
        IDENTITY_ENDPOINT: "http://localhost:40342/metadata/identity/oauth2/token",
        IMDS_ENDPOINT: "http://localhost:40342",
      }),
    ).toEqual({
      name: "azureArc",
      endpoint: "http://localhost:40342/metadata/identity/oauth2/token",
    });
    const seen: string[] = [];
    const exists = (path: string) => {
      seen.push(path);
      return path === "/opt/azcmagent/bin/himds";
    };
    expect(detect({}, exists)).toEqual({ name: "azureArc", endpoint: ARC_DEFAULT_ENDPOINT });
    expect(seen).toEqual(["/opt/azcmagent/bin/himds"]);
    // IDENTITY_ENDPOINT alone (without IMDS_ENDPOINT) is not Arc unless the agent is installed.
    expect(detect({ IDENTITY_ENDPOINT: "http://localhost:1/" }).name).toBe("imds");
  });

  it("knows the Windows agent paths", () => {
    expect(himdsPath("win32", { ProgramFiles: "D:\\PF" })).toBe(
      "D:\\PF\\AzureConnectedMachineAgent\\himds.exe",
    );
    expect(himdsPath("darwin", {})).toBeUndefined();
    expect(defaultArcTokenFolder("win32", { ProgramData: "E:\\PD" })).toBe(
      "E:\\PD\\AzureConnectedMachineAgent\\Tokens",
    );
    expect(defaultArcTokenFolder("linux", {})).toBe("/var/opt/azcmagent/tokens");
  });

  it("refuses a malformed endpoint or thumbprint with the variable's name", () => {
    expect(() => detect({ IDENTITY_ENDPOINT: "not a url", IDENTITY_HEADER: "h" })).toThrow(
      /IDENTITY_ENDPOINT/,
    );
    expect(() => detect({ MSI_ENDPOINT: "ftp://x/" })).toThrow(/MSI_ENDPOINT/);
    expect(() =>
      detect({ IDENTITY_ENDPOINT: "https://a/", IDENTITY_HEADER: "h", IDENTITY_SERVER_THUMBPRINT: "xyz" }),
    ).toThrow(/IDENTITY_SERVER_THUMBPRINT/);
  });
});
