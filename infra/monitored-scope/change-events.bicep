// Azure's change events for one monitored subscription, pushed to the monitor's Event Grid trigger
// (cmkAzureChangeEvents): the subscription's system topic, filtered on the operations that can
// break an account's access to its key. Deployed by subscription.bicep when changeEvents is true,
// after the function code (Event Grid validates the function endpoint when the subscription is made).
targetScope = 'subscription'

@description('Resource id of the monitor\'s Function App (output FUNCTION_APP_ID).')
param functionAppId string

@description('Region of the system topic: a subscription\'s system topic is global.')
param location string = 'global'

// The operations the handler acts on (WATCHED_OPERATIONS in src/domain/changeEvents.ts); the
// handler ignores anything else, this filter only saves deliveries.
var watchedOperations = [
  'Microsoft.Authorization/roleAssignments/delete'
  'Microsoft.Authorization/roleAssignments/write'
  'Microsoft.KeyVault/vaults/write'
  'Microsoft.KeyVault/vaults/delete'
  'Microsoft.KeyVault/vaults/accessPolicies/write'
  'Microsoft.DocumentDB/databaseAccounts/write'
  'Microsoft.ManagedIdentity/userAssignedIdentities/delete'
]

resource deployment 'Microsoft.Resources/resourceGroups@2024-03-01' existing = {
  name: split(functionAppId, '/')[4]
}

// Why: one system topic per subscription carries every ARM write and delete in it.
module topic 'change-events-topic.bicep' = {
  name: 'cmk-change-events-${uniqueString(subscription().id)}'
  scope: deployment
  params: {
    topicName: 'cmk-monitor-${uniqueString(subscription().id)}'
    location: location
    source: subscription().id
    functionAppId: functionAppId
    watchedOperations: watchedOperations
  }
}
