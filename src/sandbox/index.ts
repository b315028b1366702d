export { LocalSandbox } from "./server";
export type { ArmThrottle, LocalSandboxOptions, RecordedExchange, RecordedRequest, SandboxFault, SandboxRouteId } from "./server";
export { SANDBOX_TENANT_ID } from "./armRoutes";
export type { SandboxAccount, SandboxAccountSpec, SandboxIdentitySpec } from "./armRoutes";
export type { EmailRepeat, SentEmail } from "./acsRoutes";
export { AcsDeliveryReports, SANDBOX_ACS_RESOURCE_ID } from "./acsDeliveryReports";
export type { DeliveryReportBehaviour, DeliveryReportListener } from "./acsDeliveryReports";
export { azuriteCommandLine, startAzurite } from "./azurite";
export type { AzuriteInstance, StartAzuriteOptions } from "./azurite";
export { createSandboxCertificate } from "./tls";
export type { SandboxTlsMaterial } from "./tls";
export { SandboxKeyVault, SANDBOX_BUILT_IN_ROLES, CRYPTO_SERVICE_ENCRYPTION_USER } from "./keyVaultState";
export type {
  SandboxFirewall,
  SandboxGrantVia,
  SandboxKeyOptions,
  SandboxMonitorDenial,
  SandboxPermissionModel,
  SandboxRoleDefinition,
  SandboxRoleScope,
  SandboxVaultSpec,
} from "./keyVaultState";
export type { CmkTarget } from "./keyVaultProvisioning";
