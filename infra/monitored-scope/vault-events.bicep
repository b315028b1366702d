// Optional: one monitored vault's own events (key near expiry, expired, new version, access policy
// changed) to the monitor's function. Deploy in the vault's resource group, after the function code:
//   az deployment group create -g <vault-rg> -f infra/monitored-scope/vault-events.bicep \
//     -p vaultName=<vault> functionAppId=<FUNCTION_APP_ID>
targetScope = 'resourceGroup'

@description('Name of the Key Vault whose events the monitor should get.')
param vaultName string

@description('Resource id of the monitor\'s Function App (output FUNCTION_APP_ID).')
param functionAppId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

// Why: Key Vault raises key events only on a topic someone created for the vault.
resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: 'cmk-monitor-${vaultName}'
  location: resourceGroup().location
  properties: {
    source: vault.id
    topicType: 'Microsoft.KeyVault.vaults'
  }
}

resource toMonitor 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: topic
  name: 'cmk-monitor'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/cmkAzureChangeEvents'
        maxEventsPerBatch: 1
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.KeyVault.KeyNearExpiry'
        'Microsoft.KeyVault.KeyExpired'
        'Microsoft.KeyVault.KeyNewVersionCreated'
        'Microsoft.KeyVault.VaultAccessPolicyChanged'
      ]
    }
  }
}
