// The watcher is watched: log alerts on the monitor's own Application Insights traces.
// The app writes one "cmk-monitor: cycle completed" line per finished poll cycle, one
// "cmk-monitor: send failed" line per failed email and one "cmk-monitor: poison work item" line
// per work item the queue gave up on (host.json keeps traces out of sampling).

@description('Name of the action group that emails the alert address.')
param actionGroupName string

@description('Application Insights component holding the monitor\'s traces.')
param applicationInsightsName string

@description('Region of the alert rules (the Application Insights region).')
param location string

@description('Tags applied to the action group and rules.')
param tags object = {}

@description('Address that receives the monitor\'s health alerts.')
param alertEmailAddress string

@description('Minutes between poll cycles (CMK_POLL_INTERVAL_MINUTES).')
param pollIntervalInMinutes int

@description('Failed sends within an hour that raise the send-failure alert.')
param sendFailureThreshold int = 3

// Log alert windows Azure Monitor accepts, in minutes.
var allowedWindowsInMinutes = [5, 10, 15, 30, 45, 60, 120, 180, 240, 300, 360, 1440]
// 3 × the poll interval, rounded up to the next window Azure Monitor accepts (15 for the default 5).
var missedCycleWindowInMinutes = filter(allowedWindowsInMinutes, window => window >= 3 * pollIntervalInMinutes)[0]
var missedCycleWindow = missedCycleWindowInMinutes % 60 == 0
  ? 'PT${missedCycleWindowInMinutes / 60}H'
  : 'PT${missedCycleWindowInMinutes}M'

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'cmkmonitor'
    enabled: true
    emailReceivers: [
      {
        name: 'monitor-operators'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

// Fires when no poll cycle completed for 3 × the schedule interval: the timer stopped, the app
// crashes, or every cycle fails (a cycle that throws never logs "cycle completed").
resource missedCycles 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'cmk-monitor-missed-poll-cycles'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'CMK monitor: no poll cycle completed'
    description: 'No "cmk-monitor: cycle completed" trace for ${missedCycleWindow} (3 × the ${pollIntervalInMinutes}-minute poll interval). Cosmos DB CMK accounts are not being watched.'
    severity: 1
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: missedCycleWindow
    criteria: {
      allOf: [
        {
          query: 'traces | where message startswith "cmk-monitor: cycle completed"'
          timeAggregation: 'Count'
          operator: 'LessThan'
          threshold: 1
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// Fires when sends keep failing: owners and escalation contacts are not being told.
resource failingSends 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'cmk-monitor-failing-sends'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'CMK monitor: email sends keep failing'
    description: 'At least ${sendFailureThreshold} "cmk-monitor: send failed" traces within an hour. Incident emails are not reaching owners.'
    severity: 2
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: 'traces | where message startswith "cmk-monitor: send failed"'
          timeAggregation: 'Count'
          operator: 'GreaterThanOrEqual'
          threshold: sendFailureThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// Fires when a work item ended in the poison queue: a batch of accounts failed every attempt
// (the next cycle covers its accounts again, but something keeps failing).
resource poisonWorkItems 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'cmk-monitor-poison-work-items'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'CMK monitor: work items end in the poison queue'
    description: 'A "cmk-monitor: poison work item" trace within an hour: a batch of accounts failed every attempt on the work queue.'
    severity: 2
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: 'traces | where message startswith "cmk-monitor: poison work item"'
          timeAggregation: 'Count'
          operator: 'GreaterThanOrEqual'
          threshold: 1
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

output missedCycleWindow string = missedCycleWindow
