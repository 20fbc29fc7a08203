export type { KeyVaultSecretInput, KeyVaultSecretVersion } from "./keyvault-routes";
export type { ResourceRejection } from "./resource-routes";
export { startEmulator } from "./start-emulator";
export type {
  ConfidentialClientRegistration,
  Emulator,
  EmulatorOptions,
  EmulatorStats,
  EndpointName,
  Fault,
  ManagedIdentityInfo,
  ManagedIdentitySourceName,
  RecordedRequest,
} from "./types";
