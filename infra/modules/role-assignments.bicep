// Every role the monitor's identity holds inside its own resource group, one assignment per need,
// each scoped to the single resource it is for. Roles at the monitored subscriptions or management
// groups live in infra/monitored-scope/.

@description('Principal (object) id of the monitor\'s user-assigned identity.')
param principalId string

@description('Storage account used by the Functions host and for the monitor\'s tables and queues.')
param storageAccountName string

@description('Application Insights component the app sends telemetry to.')
param applicationInsightsName string

@description('Communication Services resource the monitor sends email through.')
param communicationServiceName string

@allowed([
  'custom'
  'builtin'
])
@description('"custom": a role with only the actions email send needs; "builtin": Communication and Email Service Owner.')
param emailSendRole string = 'custom'

// Built-in role definition ids (Azure built-in roles reference).
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
var storageTableDataContributorRoleId = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
var communicationAndEmailServiceOwnerRoleId = '09976791-48a7-449e-bb21-39d1a415f350' // Communication and Email Service Owner

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource communicationService 'Microsoft.Communication/communicationServices@2025-05-01' existing = {
  name: communicationServiceName
}

// Why: the Functions host keeps its leases, timer schedule status and keys in blobs, and Flex
// Consumption pulls the deployment package from a blob container; the host docs require Owner.
resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CMK monitor: Functions host blobs and the Flex deployment package.'
  }
}

// Why: the host and the monitor's own queues (AzureWebJobsStorage__queueServiceUri) send and
// receive queue messages; Contributor is the narrowest role that can create a queue and use it.
resource storageQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageQueueDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CMK monitor: host and monitor queues.'
  }
}

// Why: incident state (first notice, reminders, escalation deadlines) is read and written in the
// CMK_STATE_TABLE table through AzureWebJobsStorage__tableServiceUri.
resource storageTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageTableDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CMK monitor: incident state table.'
  }
}

// Why: Application Insights has local (key) auth off, so the host must authenticate its telemetry
// with this identity; without it the poll-cycle traces the health alerts read never arrive.
resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CMK monitor: telemetry with Entra ID auth.'
  }
}

// Why a custom role: ACS authorizes an Entra-authenticated email send with these three actions
// (Microsoft's documented least-privilege set). The built-in owner role also allows deleting the
// resource, its domains and senders, and reading or regenerating its access keys.
resource emailSenderRoleDefinition 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (emailSendRole == 'custom') {
  name: guid(resourceGroup().id, 'cmk-monitor-email-sender')
  properties: {
    roleName: 'CMK monitor email sender (${uniqueString(resourceGroup().id)})'
    description: 'Send email through Azure Communication Services with a managed identity; nothing else.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Communication/CommunicationServices/Read'
          'Microsoft.Communication/CommunicationServices/Write'
          'Microsoft.Communication/EmailServices/write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

// Why: the monitor emails owners and escalation contacts through ACS_ENDPOINT with its identity;
// this grants exactly the custom email-sender role above, on this one ACS resource.
resource emailSendCustom 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (emailSendRole == 'custom') {
  name: guid(communicationService.id, principalId, 'cmk-monitor-email-sender')
  scope: communicationService
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', emailSenderRoleDefinition.name)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CMK monitor: send incident email.'
  }
}

// Why: the same email-send need, for deployers who may not create custom role definitions; the
// built-in role is broader (it can manage and delete the email resources), scoped to this ACS only.
resource emailSendBuiltIn 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (emailSendRole == 'builtin') {
  name: guid(communicationService.id, principalId, communicationAndEmailServiceOwnerRoleId)
  scope: communicationService
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', communicationAndEmailServiceOwnerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'CMK monitor: send incident email.'
  }
}
