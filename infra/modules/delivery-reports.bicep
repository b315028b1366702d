// ACS email delivery reports (docs/deploy.md, "Delivery reports"): the ACS resource's Event Grid
// system topic and a subscription delivering Microsoft.Communication.EmailDeliveryReportReceived
// to the app's emailDeliveryReports function (src/functions/emailDeliveryReports.ts). Deployed only
// with deliveryReports=true, after the code: Event Grid checks the function exists when the
// subscription is created.

@description('Name of the existing Communication Services resource whose reports are wanted.')
param communicationServiceName string

@description('Name of the existing Function App that hosts the emailDeliveryReports function.')
param functionAppName string

@description('Tags applied to the system topic.')
param tags object = {}

resource communicationService 'Microsoft.Communication/communicationServices@2025-05-01' existing = {
  name: communicationServiceName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// A system topic lives in the source's resource group; ACS resources are global, and so is the topic.
resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: 'egst-${communicationServiceName}'
  location: 'global'
  tags: tags
  properties: {
    source: communicationService.id
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

// One event per invocation (the trigger handles a single event); Event Grid retries failed
// deliveries (the handler throws only when the store failed) for a day, then drops them.
resource emailDeliveryReports 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: systemTopic
  name: 'cmk-email-delivery-reports'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/emailDeliveryReports'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.EmailDeliveryReportReceived'
      ]
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output systemTopicName string = systemTopic.name
