// Roles the monitor needs on one monitored subscription. main.bicep deploys this once per id in
// CMK_SUBSCRIPTION_IDS; to add a subscription later without redeploying everything:
//   az deployment sub create --subscription <id> -l <region> \
//     -f infra/monitored-scope/subscription.bicep -p principalId=<MONITOR_IDENTITY_PRINCIPAL_ID>
targetScope = 'subscription'

@description('Principal (object) id of the monitor\'s user-assigned identity (output MONITOR_IDENTITY_PRINCIPAL_ID).')
param principalId string

@description('Also grant Key Vault Reader, for the key metadata probes. Only RBAC-model vaults honour it.')
param assignKeyVaultReader bool = true

var readerRoleId = 'acdd72a7-3385-48ef-bd42-f606fba81ae7' // Reader
@description('Also grant Support Request Contributor, so the monitor can file support tickets (CMK_SUPPORT_TICKETS=create).')
param assignSupportRequestContributor bool = false

@description('Also push Azure\'s change events in this subscription to the monitor (its system topic and an event subscription; deploy after the function code).')
param changeEvents bool = false

@description('Resource id of the monitor\'s Function App (output FUNCTION_APP_ID); required with changeEvents.')
param functionAppId string = ''

var keyVaultReaderRoleId = '21090545-7ca7-4776-b22c-e363652d74d2' // Key Vault Reader
var supportRequestContributorRoleId = 'cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e' // Support Request Contributor

// Why: the monitor lists Cosmos DB accounts and their CMK settings, reads the Key Vaults they
// point to and the role assignments on them; Reader covers all of it and changes nothing.
resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, readerRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', readerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CMK monitor: read Cosmos DB accounts, Key Vaults and role assignments.'
  }
}

// Why: the probes read key metadata (enabled, expiry, versions) to explain a revocation; Key Vault
// Reader is metadata only: no key material, no secret values, no crypto operations.
resource keyVaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assignKeyVaultReader) {
  name: guid(subscription().id, principalId, keyVaultReaderRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultReaderRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CMK monitor: read CMK key metadata (no crypto).'
  }
}

// Why: with CMK_SUPPORT_TICKETS=create the monitor files a Microsoft support ticket for an account
// that does not recover in time; Support Request Contributor creates and reads support tickets only.
resource supportRequestContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (assignSupportRequestContributor) {
  name: guid(subscription().id, principalId, supportRequestContributorRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', supportRequestContributorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CMK monitor: file and follow support tickets for revoked accounts.'
  }
}

// Why: a permission removed or a vault firewall closed is reported within minutes, before Cosmos DB
// revokes the account, instead of at the next daily check.
module events 'change-events.bicep' = if (changeEvents && !empty(functionAppId)) {
  name: 'cmk-change-events'
  params: {
    functionAppId: functionAppId
  }
}
