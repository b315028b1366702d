import type { ProbeCallOptions } from "./keyVaultReads";

export interface RoleAssignmentSummary {
  scope: string;
  roleDefinitionId: string;
  /** Who the assignment names: the identity itself, or a group it belongs to. */
  principalId?: string;
  /** "ServicePrincipal", "Group", "User", … as ARM reports it. */
  principalType?: string;
  /** An ABAC condition; the monitor cannot evaluate one, so a grant that needs it is undecided. */
  condition?: string;
}

export interface RoleDefinitionSummary {
  roleName?: string;
  permissions: Array<{ dataActions: string[]; notDataActions: string[] }>;
}

export interface DenyAssignmentPrincipal {
  id: string;
  /** "ServicePrincipal", "Group", "User", or "SystemDefined" for Everyone (id all zeros). */
  type?: string;
}

export interface DenyAssignmentSummary {
  id?: string;
  name?: string;
  scope: string;
  /** True when the deny applies at its own scope only, not to the vault's keys below it. */
  doNotApplyToChildScopes: boolean;
  principals: DenyAssignmentPrincipal[];
  excludePrincipals: DenyAssignmentPrincipal[];
  permissions: Array<{ dataActions: string[]; notDataActions: string[] }>;
  condition?: string;
}

/** Port: who holds which role where, and what is denied. Errors are the SDK's. */
export interface RoleAssignmentReader {
  /**
   * Assignments that apply to `principalId` at `scope` or above it, including assignments to the
   * groups it belongs to (ARM's `atScope() and assignedTo('{id}')` filter).
   */
  listApplying(scope: string, principalId: string, options?: ProbeCallOptions): Promise<RoleAssignmentSummary[]>;
  getRoleDefinition(roleDefinitionId: string, options?: ProbeCallOptions): Promise<RoleDefinitionSummary>;
  /** Deny assignments at `scope` or above it, for every principal (ARM's `atScope()` filter). */
  listDenyAssignments(scope: string, options?: ProbeCallOptions): Promise<DenyAssignmentSummary[]>;
}
