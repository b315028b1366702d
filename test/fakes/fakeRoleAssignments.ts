/** Role assignments per principal (and the groups it is in), role definitions and deny assignments. */
import type { DenyAssignmentSummary, RoleAssignmentReader, RoleAssignmentSummary, RoleDefinitionSummary } from "../../src/ports/roleAssignments";
import { FaultPlan, restError } from "./faultPlan";

export class FakeRoleAssignments implements RoleAssignmentReader {
  readonly assignments: Array<RoleAssignmentSummary & { principalId: string }> = [];
  readonly definitions = new Map<string, RoleDefinitionSummary>();
  readonly denies: DenyAssignmentSummary[] = [];
  /** principal id → the groups it belongs to, for assignedTo(). */
  readonly groups = new Map<string, string[]>();
  readonly faults = new FaultPlan<keyof RoleAssignmentReader>();

  /** Assignments at or above `scope` to the principal or its groups, as `atScope() and assignedTo()` returns them. */
  async listApplying(scope: string, principalId: string): Promise<RoleAssignmentSummary[]> {
    this.faults.throwIfPlanned("listApplying");
    const target = scope.toLowerCase();
    const holders = new Set([principalId, ...(this.groups.get(principalId) ?? [])]);
    return this.assignments
      .filter((a) => holders.has(a.principalId) && (target === a.scope.toLowerCase() || target.startsWith(`${a.scope.toLowerCase()}/`)))
      .map((a) => structuredClone(a));
  }

  async getRoleDefinition(roleDefinitionId: string): Promise<RoleDefinitionSummary> {
    this.faults.throwIfPlanned("getRoleDefinition");
    const definition = this.definitions.get(roleDefinitionId);
    if (!definition) throw restError(404, `Role definition ${roleDefinitionId} not found`);
    return structuredClone(definition);
  }

  /** Deny assignments at or above `scope`, as `atScope()` returns them. */
  async listDenyAssignments(scope: string): Promise<DenyAssignmentSummary[]> {
    this.faults.throwIfPlanned("listDenyAssignments");
    const target = scope.toLowerCase();
    return this.denies.filter((d) => target === d.scope.toLowerCase() || target.startsWith(`${d.scope.toLowerCase()}/`)).map((d) => structuredClone(d));
  }
}
