# azd postdeploy hook (Windows): the same as wire-delivery-reports.sh. The Event Grid subscription
# needs the deployed function, so when CMK_DELIVERY_REPORTS was never set, set it to true and
# provision again; an explicit false is left alone.
$ErrorActionPreference = 'Stop'
$current = ''
try { $current = (azd env get-value CMK_DELIVERY_REPORTS 2>$null) } catch { $current = '' }
if ($LASTEXITCODE -ne 0) { $current = '' }
if ($current -eq 'true' -or $current -eq 'false') {
  Write-Output "delivery reports: CMK_DELIVERY_REPORTS=$current in this azd environment, nothing to do"
} else {
  Write-Output 'delivery reports: wiring them now that the function is deployed (azd provision)'
  azd env set CMK_DELIVERY_REPORTS true
  if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
  azd provision --no-prompt
  exit $LASTEXITCODE
}
