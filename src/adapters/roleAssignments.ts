/** Role assignments, role definitions and deny assignments over ARM (`@azure/arm-authorization`). */
import { AuthorizationManagementClient, type DenyAssignment, type Principal } from "@azure/arm-authorization";
import type { TokenCredential } from "@azure/core-auth";
import type { CommonClientOptions } from "@azure/core-client";
import type {
  DenyAssignmentPrincipal,
  DenyAssignmentSummary,
  RoleAssignmentReader,
  RoleAssignmentSummary,
  RoleDefinitionSummary,
} from "../ports/roleAssignments";
import type { ProbeCallOptions } from "../ports/keyVaultReads";

export interface ArmRoleAssignmentReaderOptions {
  credential: TokenCredential;
  endpoint: string;
  clientOptions?: CommonClientOptions;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class ArmRoleAssignmentReader implements RoleAssignmentReader {
  private clientInstance: AuthorizationManagementClient | undefined;

  constructor(private readonly options: ArmRoleAssignmentReaderOptions) {}

  async listApplying(scope: string, principalId: string, options: ProbeCallOptions = {}): Promise<RoleAssignmentSummary[]> {
    // The id goes into an OData filter: anything but a GUID could change the query.
    if (!GUID.test(principalId)) throw new RangeError(`Principal id "${principalId.slice(0, 64)}" is not a GUID.`);
    const found: RoleAssignmentSummary[] = [];
    // assignedTo() expands group memberships, which `principalId eq` does not; atScope() keeps
    // only assignments that reach the key (at it or above it).
    const pages = this.client().roleAssignments.listForScope(armScope(scope), {
      filter: `atScope() and assignedTo('${principalId}')`,
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
    for await (const assignment of pages) {
      if (!assignment.scope || !assignment.roleDefinitionId) continue;
      found.push({
        scope: assignment.scope,
        roleDefinitionId: assignment.roleDefinitionId,
        ...(assignment.principalId ? { principalId: assignment.principalId } : {}),
        ...(assignment.principalType ? { principalType: assignment.principalType } : {}),
        ...(assignment.condition ? { condition: assignment.condition } : {}),
      });
    }
    return found;
  }

  async getRoleDefinition(roleDefinitionId: string, options: ProbeCallOptions = {}): Promise<RoleDefinitionSummary> {
    const definition = await this.client().roleDefinitions.getById(
      roleDefinitionId.replace(/^\/+/, ""),
      options.abortSignal ? { abortSignal: options.abortSignal } : {},
    );
    return {
      ...(definition.roleName ? { roleName: definition.roleName } : {}),
      permissions: (definition.permissions ?? []).map((p) => ({ dataActions: p.dataActions ?? [], notDataActions: p.notDataActions ?? [] })),
    };
  }

  async listDenyAssignments(scope: string, options: ProbeCallOptions = {}): Promise<DenyAssignmentSummary[]> {
    const found: DenyAssignmentSummary[] = [];
    // Deny assignments often name Everyone with exclusions, which a principal filter would not
    // return; so read all that reach the key and decide who they cover here.
    const pages = this.client().denyAssignments.listForScope(armScope(scope), {
      filter: "atScope()",
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
    for await (const deny of pages) {
      const summary = toDenySummary(deny);
      if (summary) found.push(summary);
    }
    return found;
  }

  private client(): AuthorizationManagementClient {
    // Listing by scope does not use the client's subscription; any well-formed id will do.
    this.clientInstance ??= new AuthorizationManagementClient(this.options.credential, "00000000-0000-0000-0000-000000000000", {
      ...this.options.clientOptions,
      endpoint: this.options.endpoint,
    });
    return this.clientInstance;
  }
}

/** The SDK writes "/{scope}/providers/…" itself, so the scope goes in without its leading slash. */
function armScope(scope: string): string {
  return scope.replace(/^\/+/, "");
}

function toDenySummary(deny: DenyAssignment): DenyAssignmentSummary | undefined {
  if (!deny.scope) return undefined;
  return {
    ...(deny.id ? { id: deny.id } : {}),
    ...(deny.denyAssignmentName ? { name: deny.denyAssignmentName } : {}),
    scope: deny.scope,
    doNotApplyToChildScopes: deny.doNotApplyToChildScopes === true,
    principals: principals(deny.principals),
    excludePrincipals: principals(deny.excludePrincipals),
    permissions: (deny.permissions ?? []).map((p) => ({ dataActions: p.dataActions ?? [], notDataActions: p.notDataActions ?? [] })),
    ...(deny.condition ? { condition: deny.condition } : {}),
  };
}

function principals(list: Principal[] | undefined): DenyAssignmentPrincipal[] {
  return (list ?? []).filter((p) => typeof p.id === "string").map((p) => ({ id: p.id!, ...(p.type ? { type: p.type } : {}) }));
}
