// The one identity the monitor uses for everything: storage, ARM, Key Vault, email, telemetry.
// User-assigned, so its roles can be granted (and reviewed) before the app exists and survive a
// redeploy of the app.

@description('Name of the user-assigned managed identity.')
param name string

@description('Region of the identity.')
param location string

@description('Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
