import type { ProbeCallOptions } from "./keyVaultReads";

export interface RoleAssignmentSummary {
  scope: string;
  roleDefinitionId: string;
}

export interface RoleDefinitionSummary {
  roleName?: string;
  permissions: Array<{ dataActions: string[]; notDataActions: string[] }>;
}

/** Port: who holds which role where. Errors are the SDK's. */
export interface RoleAssignmentReader {
  /** Assignments of `principalId` at, above or below `scope` (ARM's `principalId eq` filter). */
  listForPrincipal(scope: string, principalId: string, options?: ProbeCallOptions): Promise<RoleAssignmentSummary[]>;
  getRoleDefinition(roleDefinitionId: string, options?: ProbeCallOptions): Promise<RoleDefinitionSummary>;
}
