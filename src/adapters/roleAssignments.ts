/** Role assignments and role definitions over ARM (`@azure/arm-authorization`). */
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import type { TokenCredential } from "@azure/core-auth";
import type { CommonClientOptions } from "@azure/core-client";
import type { RoleAssignmentReader, RoleAssignmentSummary, RoleDefinitionSummary } from "../ports/roleAssignments";
import type { ProbeCallOptions } from "../ports/keyVaultReads";

export interface ArmRoleAssignmentReaderOptions {
  credential: TokenCredential;
  endpoint: string;
  clientOptions?: CommonClientOptions;
}

export class ArmRoleAssignmentReader implements RoleAssignmentReader {
  private clientInstance: AuthorizationManagementClient | undefined;

  constructor(private readonly options: ArmRoleAssignmentReaderOptions) {}

  async listForPrincipal(scope: string, principalId: string, options: ProbeCallOptions = {}): Promise<RoleAssignmentSummary[]> {
    const found: RoleAssignmentSummary[] = [];
    // The SDK writes "/{scope}/providers/…" itself, so the scope goes in without its leading slash.
    const pages = this.client().roleAssignments.listForScope(scope.replace(/^\/+/, ""), {
      filter: `principalId eq '${principalId.replace(/'/g, "")}'`,
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
    for await (const assignment of pages) {
      if (assignment.scope && assignment.roleDefinitionId) found.push({ scope: assignment.scope, roleDefinitionId: assignment.roleDefinitionId });
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

  private client(): AuthorizationManagementClient {
    // Listing by scope does not use the client's subscription; any well-formed id will do.
    this.clientInstance ??= new AuthorizationManagementClient(this.options.credential, "00000000-0000-0000-0000-000000000000", {
      ...this.options.clientOptions,
      endpoint: this.options.endpoint,
    });
    return this.clientInstance;
  }
}
