// The subscription's system topic and its event subscription to the monitor's function, in the
// monitor's resource group (a system topic lives in a resource group; its source is the subscription).
targetScope = 'resourceGroup'

@description('Name of the system topic.')
param topicName string

@description('Region of the system topic (global for a subscription).')
param location string

@description('The subscription whose events the topic carries (its resource id).')
param source string

@description('Resource id of the monitor\'s Function App.')
param functionAppId string

@description('ARM operation names the event subscription lets through.')
param watchedOperations array

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: topicName
  location: location
  properties: {
    source: source
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

// Why: only successful writes, deletes and actions, only the operations that can revoke an account.
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
        'Microsoft.Resources.ResourceWriteSuccess'
        'Microsoft.Resources.ResourceDeleteSuccess'
        'Microsoft.Resources.ResourceActionSuccess'
      ]
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: watchedOperations
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}
