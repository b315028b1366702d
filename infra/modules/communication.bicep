// Email: an Email Communication Service with an Azure-managed domain (sends at once, no DNS work),
// an optional custom domain, and a Communication Services resource linked to them. Access keys
// are disabled; the monitor sends with its managed identity against ACS_ENDPOINT.

@description('Name of the Communication Services resource.')
param communicationServiceName string

@description('Name of the Email Communication Service resource.')
param emailServiceName string

@description('Where email data is stored at rest, e.g. "United States", "Europe".')
param dataLocation string

@description('Tags applied to every email resource.')
param tags object = {}

@description('Custom sender domain, e.g. alerts.example.com; empty for none.')
param customDomain string = ''

@description('True once the custom domain is verified in DNS; only a verified domain can be linked.')
param customDomainVerified bool = false

@description('User name (the part before @) of the sender on the custom domain.')
param customSenderUsername string = 'cmk-monitor'

var hasCustomDomain = !empty(customDomain)
var useCustomDomain = hasCustomDomain && customDomainVerified

resource emailService 'Microsoft.Communication/emailServices@2025-05-01' = {
  name: emailServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

// Always present: a working sender on day one, and the fallback while a custom domain verifies.
resource azureManagedDomain 'Microsoft.Communication/emailServices/domains@2025-05-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource customEmailDomain 'Microsoft.Communication/emailServices/domains@2025-05-01' = if (hasCustomDomain) {
  parent: emailService
  name: hasCustomDomain ? customDomain : 'unused'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'CustomerManaged'
    userEngagementTracking: 'Disabled'
  }
}

// Sender addresses can be added once the domain is verified.
resource customSender 'Microsoft.Communication/emailServices/domains/senderUsernames@2025-05-01' = if (useCustomDomain) {
  parent: customEmailDomain
  name: customSenderUsername
  properties: {
    username: customSenderUsername
    displayName: 'Cosmos DB CMK monitor'
  }
}

resource communicationService 'Microsoft.Communication/communicationServices@2025-05-01' = {
  name: communicationServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    disableLocalAuth: true
    linkedDomains: concat([azureManagedDomain.id], useCustomDomain ? [customEmailDomain.id] : [])
  }
}

output communicationServiceName string = communicationService.name
// CMK_ACS_RESOURCE_ID: delivery reports are accepted only from this resource's system topic.
output communicationServiceId string = communicationService.id
output endpoint string = 'https://${communicationService.properties.hostName}'
output senderAddress string = useCustomDomain
  ? '${customSenderUsername}@${customDomain}'
  : 'DoNotReply@${azureManagedDomain.properties.mailFromSenderDomain}'
// DNS records to publish for the custom domain (TXT, SPF, DKIM, DKIM2, DMARC); empty without one.
output customDomainVerificationRecords object = hasCustomDomain ? customEmailDomain.properties.verificationRecords : {}
