// The monitor: a Flex Consumption Function App (Linux, Node 22) that runs as the user-assigned
// identity for everything. Its app settings are every setting src/config.ts reads, under the
// same names. Deliberately NOT set, because they carry keys and exist only for local runs:
// ACS_CONNECTION_STRING, CMK_STATE_CONNECTION and AzureWebJobsStorage (the plain connection
// string); in Azure the app uses ACS_ENDPOINT and the AzureWebJobsStorage__* identity settings.
// Nor CMK_LINK_SIGNING_KEY, a secret: left unset, the app creates its own link-signing key and
// keeps it in its <state table>meta table, readable only with the app's storage rights.

@description('Name of the Function App.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Region of the plan and the app.')
param location string

@description('Subnet for VNet integration (delegated to Microsoft.App/environments); empty for none.')
param virtualNetworkSubnetId string = ''

@description('Tags applied to the plan and the app.')
param tags object = {}

@description('azd service name (azure.yaml) that tags the app so `azd deploy` finds it.')
param serviceName string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity (AZURE_CLIENT_ID, AzureWebJobsStorage__clientId).')
param identityClientId string

@description('Storage account for the host, the deployment package and the monitor\'s state.')
param storageAccountName string

@description('Blob container the app package is deployed to.')
param deploymentContainerName string

@description('Application Insights component that receives the app\'s telemetry.')
param applicationInsightsName string

@description('Upper bound on instances.')
param maximumInstanceCount int

@description('Memory per instance, in MB.')
param instanceMemoryMB int

@description('CMK_SUBSCRIPTION_IDS value.')
param subscriptionIds string

@description('CMK_POLL_SCHEDULE value.')
param pollSchedule string

@description('CMK_POLL_INTERVAL_MINUTES value.')
param pollIntervalInMinutes int

@description('CMK_REMINDER_INTERVAL_MINUTES value.')
param reminderIntervalInMinutes int

@description('CMK_OWNER_TAG value.')
param ownerTag string

@description('CMK_DEFAULT_RECIPIENTS value.')
param defaultRecipients string

@description('CMK_ESCALATION_RECIPIENTS value.')
param escalationRecipients string

@description('CMK_ALLOWED_RECIPIENT_DOMAINS value.')
param allowedRecipientDomains string

@description('CMK_MAX_OWNER_RECIPIENTS value.')
param maxOwnerRecipients int = 10

@description('CMK_MAX_NEW_RECIPIENTS_PER_DAY value.')
param maxNewRecipientsPerDay int = 20

@description('CMK_EMAIL_SENDER value: a sender address on a domain linked to the ACS resource.')
param emailSender string

@description('CMK_ACS_RESOURCE_ID value: the ACS resource id; delivery reports from any other topic are ignored.')
param communicationServiceId string

@description('CMK_DELIVERY_REPORTS: on when main.bicep wires the delivery-report subscription; the final status read of an accepted email then waits for its report.')
param deliveryReports bool = false

@description('ACS_ENDPOINT value: https endpoint of the Communication Services resource.')
param communicationEndpoint string

@description('CMK_STATE_TABLE value.')
param stateTableName string

@description('CMK_ARM_ENDPOINT value, without a trailing slash.')
param armEndpoint string

@minValue(1)
@maxValue(365)
@description('CMK_KEY_EXPIRY_WARNING_DAYS value.')
param keyExpiryWarningDays int = 30

@allowed(['on', 'off'])
@description('CMK_PROBES value.')
param probes string = 'on'

@allowed(['function', 'anonymous'])
@description('CMK_DASHBOARD_AUTH value: function, or anonymous behind App Service Authentication.')
param dashboardAuth string = 'function'

@description('CMK_DASHBOARD_ALLOWED_PRINCIPALS value: comma-separated Entra object ids (users or groups) who may open the dashboard in anonymous mode.')
param dashboardAllowedPrincipals string = ''

@description('Client id of the Entra app registration App Service Authentication signs dashboard users in with (anonymous mode only).')
param dashboardAuthClientId string = ''

@description('CMK_MANAGEMENT_GROUPS value: comma-separated management group ids (Resource Graph discovery).')
param managementGroups string = ''

@allowed(['auto', 'arm', 'resource-graph'])
@description('CMK_DISCOVERY value.')
param discovery string = 'auto'

@minValue(1)
@maxValue(64)
@description('CMK_ARM_CONCURRENCY value.')
param armConcurrency int = 8

@allowed(['arm', 'resource-graph'])
@description('CMK_STATUS_SOURCE value.')
param statusSource string = 'arm'

@minValue(1)
@maxValue(1440)
@description('CMK_DISCOVERY_INTERVAL_MINUTES value.')
param discoveryIntervalMinutes int = 60

@description('CMK_CHANGES_INTERVAL_MINUTES value.')
param changesIntervalMinutes int = 15

@description('CMK_RISK_CHECK_INTERVAL_MINUTES value.')
param riskCheckIntervalMinutes int = 60

@allowed(['auto', 'queue', 'inline'])
@description('CMK_FANOUT value.')
param fanout string = 'auto'

@minValue(1)
@description('CMK_FANOUT_THRESHOLD value.')
param fanoutThreshold int = 200

@minValue(7)
@maxValue(3650)
@description('CMK_RETENTION_DAYS value.')
param retentionDays int = 90

@description('CMK_WORK_QUEUE value: the work queue in the host storage account.')
param workQueueName string = 'cmk-work'

@allowed(['off', 'on'])
@description('CMK_WEEKLY_REPORT value.')
param weeklyReport string = 'off'

@minValue(2)
@maxValue(1000)
@description('CMK_DIGEST_THRESHOLD value.')
param digestThreshold int = 5

@allowed([
  'azure-managed'
  'custom'
])
@description('CMK_EMAIL_DOMAIN_KIND value: which ACS limits the default rates follow.')
param emailDomainKind string = 'azure-managed'

@minValue(0)
@description('CMK_EMAIL_RATE_PER_MINUTE value; 0 leaves it to the domain kind.')
param emailRatePerMinute int = 0

@minValue(0)
@description('CMK_EMAIL_RATE_PER_HOUR value; 0 leaves it to the domain kind.')
param emailRatePerHour int = 0

@minValue(0)
@description('CMK_EMAIL_STATUS_RATE_PER_MINUTE value; 0 leaves it to the domain kind.')
param emailStatusRatePerMinute int = 0

@minValue(0)
@description('CMK_EMAIL_STATUS_RATE_PER_HOUR value; 0 leaves it to the domain kind.')
param emailStatusRatePerHour int = 0

@allowed(['off', 'draft', 'create'])
@description('CMK_SUPPORT_TICKETS value.')
param supportTickets string = 'off'

@allowed(['minimal', 'moderate', 'critical', 'highestcriticalimpact'])
@description('CMK_SUPPORT_SEVERITY value.')
param supportSeverity string = 'moderate'

@description('CMK_SUPPORT_CONTACT_NAME value.')
param supportContactName string = ''

@description('CMK_SUPPORT_CONTACT_EMAIL value.')
param supportContactEmail string = ''

@description('CMK_SUPPORT_CONTACT_COUNTRY value.')
param supportContactCountry string = 'usa'

@description('CMK_SUPPORT_CONTACT_LANGUAGE value.')
param supportContactLanguage string = 'en-us'

@description('CMK_SUPPORT_CONTACT_TIMEZONE value.')
param supportContactTimezone string = 'UTC'

@description('CMK_SUPPORT_PROBLEM_CLASSIFICATION_ID value.')
param supportProblemClassificationId string = ''

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Outbound calls (probes of vaults behind private endpoints) go through the subnet when set.
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }

  resource appSettings 'config' = {
    name: 'appsettings'
    properties: {
      // Host storage through the identity (no connection string, shared keys are off anyway).
      AzureWebJobsStorage__accountName: storage.name
      AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
      AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
      AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identityClientId
      // Picks the user-assigned identity for DefaultAzureCredential (ARM, Key Vault, email, tables).
      AZURE_CLIENT_ID: identityClientId
      // The connection string only says where telemetry goes; with local auth off, the
      // authentication string makes the host sign it with the identity.
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
      // The monitor (src/config.ts).
      CMK_SUBSCRIPTION_IDS: subscriptionIds
      CMK_POLL_SCHEDULE: pollSchedule
      CMK_POLL_INTERVAL_MINUTES: string(pollIntervalInMinutes)
      CMK_REMINDER_INTERVAL_MINUTES: string(reminderIntervalInMinutes)
      CMK_OWNER_TAG: ownerTag
      CMK_DEFAULT_RECIPIENTS: defaultRecipients
      CMK_ESCALATION_RECIPIENTS: escalationRecipients
      CMK_ALLOWED_RECIPIENT_DOMAINS: allowedRecipientDomains
      CMK_MAX_OWNER_RECIPIENTS: string(maxOwnerRecipients)
      CMK_MAX_NEW_RECIPIENTS_PER_DAY: string(maxNewRecipientsPerDay)
      CMK_EMAIL_SENDER: emailSender
      ACS_ENDPOINT: communicationEndpoint
      CMK_ACS_RESOURCE_ID: communicationServiceId
      // Only when Event Grid really delivers the reports: otherwise the status reads would wait for reports that never come.
      CMK_DELIVERY_REPORTS: deliveryReports ? 'on' : 'off'
      CMK_STATE_TABLE: stateTableName
      CMK_ARM_ENDPOINT: armEndpoint
      // Key Vault, identity, DNS and permission probes; the roles they need are in docs/probes.md.
      CMK_KEY_EXPIRY_WARNING_DAYS: string(keyExpiryWarningDays)
      CMK_PROBES: probes
      // Owners' one-click links in emails point at the app itself.
      CMK_PUBLIC_BASE_URL: 'https://${functionApp.properties.defaultHostName}'
      CMK_DASHBOARD_AUTH: dashboardAuth
      CMK_DASHBOARD_ALLOWED_PRINCIPALS: dashboardAllowedPrincipals
      // Fleet scale: discovery, fan-out over the work queue (its triggers read %CMK_WORK_QUEUE%), digests and pacing.
      CMK_MANAGEMENT_GROUPS: managementGroups
      CMK_DISCOVERY: discovery
      CMK_ARM_CONCURRENCY: string(armConcurrency)
      CMK_STATUS_SOURCE: statusSource
      CMK_DISCOVERY_INTERVAL_MINUTES: string(discoveryIntervalMinutes)
      CMK_CHANGES_INTERVAL_MINUTES: string(changesIntervalMinutes)
      CMK_RISK_CHECK_INTERVAL_MINUTES: string(riskCheckIntervalMinutes)
      CMK_FANOUT: fanout
      CMK_FANOUT_THRESHOLD: string(fanoutThreshold)
      CMK_RETENTION_DAYS: string(retentionDays)
      CMK_WORK_QUEUE: workQueueName
      CMK_DIGEST_THRESHOLD: string(digestThreshold)
      CMK_WEEKLY_REPORT: weeklyReport
      CMK_EMAIL_DOMAIN_KIND: emailDomainKind
      // Empty: the monitor applies the domain kind's ACS limits.
      CMK_EMAIL_RATE_PER_MINUTE: emailRatePerMinute == 0 ? '' : string(emailRatePerMinute)
      CMK_EMAIL_RATE_PER_HOUR: emailRatePerHour == 0 ? '' : string(emailRatePerHour)
      CMK_EMAIL_STATUS_RATE_PER_MINUTE: emailStatusRatePerMinute == 0 ? '' : string(emailStatusRatePerMinute)
      CMK_EMAIL_STATUS_RATE_PER_HOUR: emailStatusRatePerHour == 0 ? '' : string(emailStatusRatePerHour)
      // Microsoft support tickets on escalation.
      CMK_SUPPORT_TICKETS: supportTickets
      CMK_SUPPORT_SEVERITY: supportSeverity
      CMK_SUPPORT_CONTACT_NAME: supportContactName
      CMK_SUPPORT_CONTACT_EMAIL: supportContactEmail
      CMK_SUPPORT_CONTACT_COUNTRY: supportContactCountry
      CMK_SUPPORT_CONTACT_LANGUAGE: supportContactLanguage
      CMK_SUPPORT_CONTACT_TIMEZONE: supportContactTimezone
      CMK_SUPPORT_PROBLEM_CLASSIFICATION_ID: supportProblemClassificationId
    }
  }
}

// Deployments authenticate with Entra ID (azd and `az functionapp deployment` do); no publishing
// passwords exist to leak.
// Anonymous mode is only safe behind App Service Authentication: the module signs users in, strips
// any x-ms-client-principal* header a client sends, and lets only the allowed principals through;
// the app checks the same list again. The owners' one-click links stay open (their token is the key).
var dashboardPrincipalIds = filter(map(split(dashboardAllowedPrincipals, ','), id => trim(id)), id => !empty(id))

resource dashboardAuthSettings 'Microsoft.Web/sites/config@2024-04-01' = if (dashboardAuth == 'anonymous') {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: [
        '/api/incidents/*'
      ]
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: dashboardAuthClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            dashboardAuthClientId
            'api://${dashboardAuthClientId}'
          ]
          // Ids of users and of groups are both GUIDs: each list entry is tried as either.
          defaultAuthorizationPolicy: {
            allowedPrincipals: {
              identities: dashboardPrincipalIds
              groups: dashboardPrincipalIds
            }
          }
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output id string = functionApp.id
