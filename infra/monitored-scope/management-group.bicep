// Roles the monitor needs, granted once at a management group so every subscription below it is
// covered (including ones added later). A separate deployment at that scope:
//   az deployment mg create --management-group-id <mg> -l <region> \
//     -f infra/monitored-scope/management-group.bicep -p principalId=<MONITOR_IDENTITY_PRINCIPAL_ID>
// CMK_SUBSCRIPTION_IDS still lists which of those subscriptions the monitor polls.
targetScope = 'managementGroup'

@description('Principal (object) id of the monitor\'s user-assigned identity (output MONITOR_IDENTITY_PRINCIPAL_ID).')
param principalId string

@description('Also grant Key Vault Reader, for the key metadata probes. Only RBAC-model vaults honour it.')
param assignKeyVaultReader bool = true

var readerRoleId = 'acdd72a7-3385-48ef-bd42-f606fba81ae7' // Reader
@description('Also grant Support Request Contributor, so the monitor can file support tickets (CMK_SUPPORT_TICKETS=create).')
param assignSupportRequestContributor bool = false

var keyVaultReaderRoleId = '21090545-7ca7-4776-b22c-e363652d74d2' // Key Vault Reader
var supportRequestContributorRoleId = 'cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e' // Support Request Contributor

// Why: the monitor lists Cosmos DB accounts and their CMK settings, reads the Key Vaults they
// point to and the role assignments on them; Reader covers all of it and changes nothing.
resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(managementGroup().id, principalId, readerRoleId)
  properties: {
    roleDefinitionId: tenantResourceId('Microsoft.Authorization/roleDefinitions', readerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CMK monitor: read Cosmos DB accounts, Key Vaults and role assignments.'
  }
}

// Why: the probes read key metadata (enabled, expiry, versions) to explain a revocation; Key Vault
// Reader is metadata only: no key material, no secret values, no crypto operations.
resource keyVaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assignKeyVaultReader) {
  name: guid(managementGroup().id, principalId, keyVaultReaderRoleId)
  properties: {
    roleDefinitionId: tenantResourceId('Microsoft.Authorization/roleDefinitions', keyVaultReaderRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CMK monitor: read CMK key metadata (no crypto).'
  }
}

// Why: with CMK_SUPPORT_TICKETS=create the monitor files a Microsoft support ticket for an account
// that does not recover in time; Support Request Contributor creates and reads support tickets only.
resource supportRequestContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assignSupportRequestContributor) {
  name: guid(managementGroup().id, principalId, supportRequestContributorRoleId)
  properties: {
    roleDefinitionId: tenantResourceId('Microsoft.Authorization/roleDefinitions', supportRequestContributorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CMK monitor: file and follow support tickets for revoked accounts.'
  }
}
