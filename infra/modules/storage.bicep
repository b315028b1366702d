// One storage account for the Functions host (leases, timer schedule, deployment package) and the
// monitor's own tables and queues. Shared-key access is off: every caller uses Entra ID.

@minLength(3)
@maxLength(24)
@description('Name of the storage account (3-24 lowercase letters and digits).')
param name string

@description('Region of the storage account.')
param location string

@description('Tags applied to the storage account.')
param tags object = {}

@description('Blob container the Flex Consumption app is deployed from.')
param deploymentContainerName string

@description('Table that holds incident state (CMK_STATE_TABLE).')
param stateTableName string

@description('Queue the poll timer fans work out on (CMK_WORK_QUEUE); the host moves failing items to <name>-poison.')
param workQueueName string = 'cmk-work'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }

  resource blobService 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }

  resource queueService 'queueServices' = {
    name: 'default'

    resource workQueue 'queues' = {
      name: workQueueName
    }

    resource poisonQueue 'queues' = {
      name: '${workQueueName}-poison'
    }
  }

  resource tableService 'tableServices' = {
    name: 'default'

    resource stateTable 'tables' = {
      name: stateTableName
    }
  }
}

output name string = storage.name
