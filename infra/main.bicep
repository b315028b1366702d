// Cosmos DB CMK monitor: one resource group, one user-assigned identity, no keys or connection
// strings. Deploy with `azd up`, or `az deployment sub create -f infra/main.bicep` (see docs/deploy.md).
targetScope = 'subscription'

// ---------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd sets it from AZURE_ENV_NAME); seeds resource names and the resource group name.')
param environmentName string

@minLength(1)
@description('Region for the resource group and every regional resource. Only regions that offer the Flex Consumption plan (az functionapp list-flexconsumption-locations) are allowed.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'eastus2euap'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({ azd: { type: 'location' } })
param location string

@description('Optional: resource id of an existing subnet (delegated to Microsoft.App/environments) for VNet integration, so the probes reach vaults through private endpoints. Empty: no VNet integration.')
param virtualNetworkSubnetId string = ''

@description('Resource group to create or reuse; empty means rg-<environmentName>.')
param resourceGroupName string = ''

// ---------------------------------------------------------------------------------------------
// What is monitored (CMK_SUBSCRIPTION_IDS) and the roles granted there
// ---------------------------------------------------------------------------------------------

@description('CMK_SUBSCRIPTION_IDS: comma-separated ids of the subscriptions whose Cosmos DB accounts are watched (may be empty when monitoredManagementGroups is set).')
param monitoredSubscriptionIds string

@description('CMK_MANAGEMENT_GROUPS: comma-separated management group ids whose subscriptions are watched through Resource Graph (the tenant id is the tenant root group). Grant the roles there with infra/monitored-scope/management-group.bicep.')
param monitoredManagementGroups string = ''

@description('Grant the identity Reader and Key Vault Reader on each monitored subscription from this deployment. Set false when a platform team grants them at a management group instead (infra/monitored-scope/management-group.bicep).')
param assignMonitoredSubscriptionRoles bool = true

// ---------------------------------------------------------------------------------------------
// Monitor behaviour: app settings, same names and defaults as src/config.ts
// ---------------------------------------------------------------------------------------------

@minLength(1)
@description('CMK_ESCALATION_RECIPIENTS: comma-separated addresses told when an account does not recover in time.')
param escalationRecipients string

@description('CMK_DEFAULT_RECIPIENTS: comma-separated addresses notified when an account has no owner tag; empty by default.')
param defaultRecipients string = ''

@description('CMK_ALLOWED_RECIPIENT_DOMAINS (required): comma-separated domains ("*.example.com" allowed) mail may go to; "*" alone allows any domain.')
@minLength(1)
param allowedRecipientDomains string

@description('CMK_MAX_OWNER_RECIPIENTS: owner-tag addresses emailed per account, at most (1-50).')
@minValue(1)
@maxValue(50)
param maxOwnerRecipients int = 10

@description('CMK_MAX_NEW_RECIPIENTS_PER_DAY: addresses new to an incident emailed per UTC day, at most (1-1000).')
@minValue(1)
@maxValue(1000)
param maxNewRecipientsPerDay int = 20

@description('CMK_POLL_SCHEDULE: six-field NCRONTAB schedule of the poll timer. Keep it consistent with pollIntervalInMinutes.')
param pollSchedule string = '0 */5 * * * *'

@minValue(1)
@maxValue(60)
@description('CMK_POLL_INTERVAL_MINUTES: minutes between polls; the missed-cycle alert fires after 3 times this.')
param pollIntervalInMinutes int = 5

@minValue(5)
@maxValue(10080)
@description('CMK_REMINDER_INTERVAL_MINUTES: minutes between reminder emails for an open incident.')
param reminderIntervalInMinutes int = 60

@minLength(1)
@description('CMK_OWNER_TAG: name of the Cosmos DB account tag that holds the owner addresses.')
param ownerTag string = 'cmk-owner'

@minLength(3)
@maxLength(63)
@description('CMK_STATE_TABLE: Azure Table Storage table that holds incident state; created by this deployment.')
param stateTableName string = 'cmkmonitor'

@description('CMK_ARM_ENDPOINT: Azure Resource Manager endpoint the monitor calls. Defaults to the cloud this template is deployed to, so sovereign clouds need no override.')
param armEndpoint string = environment().resourceManager

@minValue(1)
@maxValue(365)
@description('CMK_KEY_EXPIRY_WARNING_DAYS: healthy accounts\' owners are warned when the key expires within this many days.')
param keyExpiryWarningDays int = 30

@allowed(['on', 'off'])
@description('CMK_PROBES: on checks Key Vault, the key, permissions, DNS and the firewall (needs Key Vault Reader on RBAC vaults, see docs/probes.md); off uses the ARM status only.')
param probes string = 'on'

@allowed(['function', 'anonymous'])
@description('CMK_DASHBOARD_AUTH: function (a function key opens /api/status and /api/dashboard) or anonymous (only once App Service Authentication is configured in front of the app).')
param dashboardAuth string = 'function'

@description('CMK_DASHBOARD_ALLOWED_PRINCIPALS: comma-separated Entra object ids (users or groups) who may open the dashboard; required with dashboardAuth anonymous.')
param dashboardAllowedPrincipals string = ''

@description('With dashboardAuth anonymous: client id of the Entra app registration App Service Authentication signs users in with (ID tokens enabled, redirect URI https://<app>/.auth/login/aad/callback).')
param dashboardAuthClientId string = ''

// ---------------------------------------------------------------------------------------------
// Fleet scale: discovery, fan-out, email digests and pacing (README "Scale")
// ---------------------------------------------------------------------------------------------

@allowed(['auto', 'arm', 'resource-graph'])
@description('CMK_DISCOVERY: auto (Resource Graph for more than one subscription or any management group), arm (one list call per subscription) or resource-graph.')
param discovery string = 'auto'

@minValue(1)
@maxValue(64)
@description('CMK_ARM_CONCURRENCY: subscriptions listed at once in ARM discovery (and accounts confirmed at once).')
param armConcurrency int = 8

@allowed(['arm', 'resource-graph'])
@description('CMK_STATUS_SOURCE: where each account\'s customerManagedKeyStatus comes from. arm (default): one ARM list per subscription holding CMK accounts. resource-graph: Resource Graph, only while a sample checked against ARM every cycle agrees.')
param statusSource string = 'arm'

@minValue(1)
@maxValue(1440)
@description('CMK_DISCOVERY_INTERVAL_MINUTES: how long Resource Graph\'s answer (which subscriptions hold CMK accounts) is kept between cycles.')
param discoveryIntervalMinutes int = 60

@description('CMK_CHANGES_INTERVAL_MINUTES: minutes between Resource Graph resourcechanges catch-up queries.')
param changesIntervalMinutes int = 15

@description('CMK_RISK_CHECK_INTERVAL_MINUTES: minutes between per-vault key re-reads.')
param riskCheckIntervalMinutes int = 60

@allowed(['auto', 'queue', 'inline'])
@description('CMK_FANOUT: inline (one invocation does all), queue (batches on the work queue) or auto (queue above fanoutThreshold accounts needing work).')
param fanout string = 'auto'

@minValue(1)
@description('CMK_FANOUT_THRESHOLD: accounts needing work in one cycle above which auto fans out.')
param fanoutThreshold int = 200

@minValue(7)
@maxValue(3650)
@description('CMK_RETENTION_DAYS: days sent emails, resolved incidents\' events, used link tokens and stale daily checks are kept; resolved incidents stay as one summary row each.')
param retentionDays int = 90

@minLength(3)
@maxLength(56)
@description('CMK_WORK_QUEUE: storage queue for work items (created with its -poison queue).')
param workQueueName string = 'cmk-work'

@allowed(['off', 'on'])
@description('CMK_WEEKLY_REPORT: on sends the escalation contacts a report of the last ISO week after Monday 00:00 UTC.')
param weeklyReport string = 'off'

@minValue(2)
@maxValue(1000)
@description('CMK_DIGEST_THRESHOLD: due emails of one kind to the same recipients that go out as one digest.')
param digestThreshold int = 5

@minValue(0)
@description('CMK_EMAIL_RATE_PER_MINUTE: emails per minute at most; 0 follows the sender domain (Azure-managed 5, custom 30).')
param emailRatePerMinute int = 0

@minValue(0)
@description('CMK_EMAIL_RATE_PER_HOUR: emails per rolling hour at most; 0 follows the sender domain (Azure-managed 10, custom 100).')
param emailRatePerHour int = 0

@minValue(0)
@description('CMK_EMAIL_STATUS_RATE_PER_MINUTE: email status reads per minute at most; 0 follows the sender domain (Azure-managed 10, custom 60).')
param emailStatusRatePerMinute int = 0

@minValue(0)
@description('CMK_EMAIL_STATUS_RATE_PER_HOUR: email status reads per rolling hour at most; 0 follows the sender domain (Azure-managed 20, custom 200).')
param emailStatusRatePerHour int = 0

@description('Wire ACS email delivery reports (Event Grid system topic + subscription to the emailDeliveryReports function). Turn on only after the code is deployed: Event Grid validates the function when the subscription is created.')
param deliveryReports bool = false

@allowed(['off', 'draft', 'create'])
@description('CMK_SUPPORT_TICKETS: off, draft (the escalation email carries the ticket and an az command) or create (the monitor files it; assigns Support Request Contributor on each monitored subscription).')
param supportTickets string = 'off'

@allowed(['minimal', 'moderate', 'critical', 'highestcriticalimpact'])
@description('CMK_SUPPORT_SEVERITY: the ticket severity.')
param supportSeverity string = 'moderate'

@description('CMK_SUPPORT_CONTACT_NAME: the ticket contact, first and last name (required with create).')
param supportContactName string = ''

@description('CMK_SUPPORT_CONTACT_EMAIL: the ticket contact email (default: the first escalation recipient).')
param supportContactEmail string = ''

@description('CMK_SUPPORT_CONTACT_COUNTRY: ISO 3166-1 alpha-3 country of the contact.')
param supportContactCountry string = 'usa'

@description('CMK_SUPPORT_CONTACT_LANGUAGE: preferred support language, e.g. en-us.')
param supportContactLanguage string = 'en-us'

@description('CMK_SUPPORT_CONTACT_TIMEZONE: Microsoft time zone name of the contact, e.g. UTC.')
param supportContactTimezone string = 'UTC'

@description('CMK_SUPPORT_PROBLEM_CLASSIFICATION_ID: fallback problem classification id.')
param supportProblemClassificationId string = ''

// ---------------------------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------------------------

@description('Where Azure Communication Services stores email data at rest, e.g. "United States", "Europe", "UK".')
param emailDataLocation string = 'United States'

@description('Optional custom sender domain (e.g. alerts.example.com). Empty uses only the Azure-managed domain.')
param customEmailDomain string = ''

@description('Set true once the custom domain\'s DNS records are verified; only then is it linked and used as the sender.')
param customEmailDomainVerified bool = false

@minLength(1)
@description('Sender user name on the custom domain (the part before @). The Azure-managed domain always sends as DoNotReply.')
param customEmailSenderUsername string = 'cmk-monitor'

@allowed([
  'custom'
  'builtin'
])
@description('Role that lets the identity send email: "custom" (three actions, least privilege; the deployer needs rights to create role definitions) or "builtin" (Communication and Email Service Owner).')
param emailSendRole string = 'custom'

// ---------------------------------------------------------------------------------------------
// Watching the watcher, and the host
// ---------------------------------------------------------------------------------------------

@minLength(3)
@description('Address that receives the monitor\'s own health alerts (missed poll cycles, failing sends).')
param alertEmailAddress string

@minValue(1)
@description('Failed sends within an hour that raise the "sends keep failing" alert.')
param sendFailureAlertThreshold int = 3

@minValue(30)
@maxValue(730)
@description('Days Log Analytics keeps the monitor\'s logs.')
param logRetentionInDays int = 30

@minValue(1)
@maxValue(1000)
@description('Upper bound on Flex Consumption instances; the timer runs on one.')
param maximumInstanceCount int = 40

@allowed([
  512
  2048
  4096
])
@description('Memory per Flex Consumption instance, in MB.')
param instanceMemoryMB int = 2048

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = 'func-cmk-${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
// "a, b; c" → ['a', 'b', 'c'], the same splitting the app applies to CMK_SUBSCRIPTION_IDS.
var monitoredSubscriptions = filter(
  map(split(replace(replace(monitoredSubscriptionIds, ';', ','), ' ', ','), ','), id => trim(id)),
  id => !empty(id)
)
// The app appends paths to the endpoint, so drop the trailing slash environment() returns.
var armEndpointWithoutSlash = endsWith(armEndpoint, '/') ? substring(armEndpoint, 0, length(armEndpoint) - 1) : armEndpoint

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-cmk-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-cmk-${resourceToken}'
    applicationInsightsName: 'appi-cmk-${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'stcmk${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    stateTableName: stateTableName
    workQueueName: workQueueName
  }
}

module communication 'modules/communication.bicep' = {
  name: 'communication'
  scope: rg
  params: {
    communicationServiceName: 'acs-cmk-${resourceToken}'
    emailServiceName: 'ecs-cmk-${resourceToken}'
    dataLocation: emailDataLocation
    tags: tags
    customDomain: customEmailDomain
    customDomainVerified: customEmailDomainVerified
    customSenderUsername: customEmailSenderUsername
  }
}

module roles 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    communicationServiceName: communication.outputs.communicationServiceName
    emailSendRole: emailSendRole
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-cmk-${resourceToken}'
    location: location
    virtualNetworkSubnetId: virtualNetworkSubnetId
    tags: tags
    serviceName: 'monitor'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    subscriptionIds: join(monitoredSubscriptions, ',')
    pollSchedule: pollSchedule
    pollIntervalInMinutes: pollIntervalInMinutes
    reminderIntervalInMinutes: reminderIntervalInMinutes
    ownerTag: ownerTag
    defaultRecipients: defaultRecipients
    escalationRecipients: escalationRecipients
    allowedRecipientDomains: allowedRecipientDomains
    maxOwnerRecipients: maxOwnerRecipients
    maxNewRecipientsPerDay: maxNewRecipientsPerDay
    emailSender: communication.outputs.senderAddress
    communicationEndpoint: communication.outputs.endpoint
    communicationServiceId: communication.outputs.communicationServiceId
    deliveryReports: deliveryReports
    stateTableName: stateTableName
    armEndpoint: armEndpointWithoutSlash
    keyExpiryWarningDays: keyExpiryWarningDays
    probes: probes
    dashboardAuth: dashboardAuth
    dashboardAllowedPrincipals: dashboardAllowedPrincipals
    dashboardAuthClientId: dashboardAuthClientId
    managementGroups: monitoredManagementGroups
    discovery: discovery
    armConcurrency: armConcurrency
    statusSource: statusSource
    discoveryIntervalMinutes: discoveryIntervalMinutes
    changesIntervalMinutes: changesIntervalMinutes
    riskCheckIntervalMinutes: riskCheckIntervalMinutes
    fanout: fanout
    fanoutThreshold: fanoutThreshold
    retentionDays: retentionDays
    workQueueName: workQueueName
    digestThreshold: digestThreshold
    weeklyReport: weeklyReport
    // The sender is the custom domain only once it is verified and linked (modules/communication.bicep).
    emailDomainKind: !empty(customEmailDomain) && customEmailDomainVerified ? 'custom' : 'azure-managed'
    emailRatePerMinute: emailRatePerMinute
    emailRatePerHour: emailRatePerHour
    supportTickets: supportTickets
    supportSeverity: supportSeverity
    supportContactName: supportContactName
    supportContactEmail: supportContactEmail
    supportContactCountry: supportContactCountry
    supportContactLanguage: supportContactLanguage
    supportContactTimezone: supportContactTimezone
    supportProblemClassificationId: supportProblemClassificationId
    emailStatusRatePerMinute: emailStatusRatePerMinute
    emailStatusRatePerHour: emailStatusRatePerHour
  }
  // The host starts as soon as the app exists; give it its storage and telemetry rights first.
  dependsOn: [
    roles
  ]
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    actionGroupName: 'ag-cmk-${resourceToken}'
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    location: location
    tags: tags
    alertEmailAddress: alertEmailAddress
    pollIntervalInMinutes: pollIntervalInMinutes
    sendFailureThreshold: sendFailureAlertThreshold
  }
}

// ACS delivery reports through Event Grid: off by default, and switched on in a second deployment
// once the code is published (the subscription needs the function to exist; docs/deploy.md).
module deliveryReportSubscription 'modules/delivery-reports.bicep' = if (deliveryReports) {
  name: 'delivery-reports'
  scope: rg
  params: {
    communicationServiceName: communication.outputs.communicationServiceName
    functionAppName: functionApp.outputs.name
    tags: tags
  }
}

// One deployment per monitored subscription, at that subscription's scope.
module monitoredSubscriptionRoles 'monitored-scope/subscription.bicep' = [
  for subscriptionId in (assignMonitoredSubscriptionRoles ? monitoredSubscriptions : []): {
    name: 'cmk-monitored-${uniqueString(subscriptionId, environmentName)}'
    scope: subscription(subscriptionId)
    params: {
      principalId: identity.outputs.principalId
      assignSupportRequestContributor: supportTickets == 'create'
    }
  }
]

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_ID string = functionApp.outputs.id
output MONITOR_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output MONITOR_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output ACS_ENDPOINT string = communication.outputs.endpoint
output CMK_EMAIL_SENDER string = communication.outputs.senderAddress
output CUSTOM_EMAIL_DOMAIN_DNS_RECORDS object = communication.outputs.customDomainVerificationRecords
