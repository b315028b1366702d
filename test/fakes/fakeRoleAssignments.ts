/** Role assignments per principal, and the role definitions they point at. */
import type { RoleAssignmentReader, RoleAssignmentSummary, RoleDefinitionSummary } from "../../src/ports/roleAssignments";
import { FaultPlan, restError } from "./faultPlan";

export class FakeRoleAssignments implements RoleAssignmentReader {
  readonly assignments: Array<RoleAssignmentSummary & { principalId: string }> = [];
  readonly definitions = new Map<string, RoleDefinitionSummary>();
  readonly faults = new FaultPlan<keyof RoleAssignmentReader>();

  /** Assignments at, above or below `scope`, as ARM's `principalId eq` filter returns them. */
  async listForPrincipal(scope: string, principalId: string): Promise<RoleAssignmentSummary[]> {
    this.faults.throwIfPlanned("listForPrincipal");
    const target = scope.toLowerCase();
    return this.assignments
      .filter((a) => a.principalId === principalId && (target.startsWith(a.scope.toLowerCase()) || a.scope.toLowerCase().startsWith(target)))
      .map(({ scope: at, roleDefinitionId }) => ({ scope: at, roleDefinitionId }));
  }

  async getRoleDefinition(roleDefinitionId: string): Promise<RoleDefinitionSummary> {
    this.faults.throwIfPlanned("getRoleDefinition");
    const definition = this.definitions.get(roleDefinitionId);
    if (!definition) throw restError(404, `Role definition ${roleDefinitionId} not found`);
    return structuredClone(definition);
  }
}
