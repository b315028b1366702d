#!/bin/sh
# azd postdeploy hook: wires ACS delivery reports once the code is deployed.
#
# The Event Grid subscription points at the emailDeliveryReports function, which exists only after
# the first deployment, so `azd up` cannot create it. When CMK_DELIVERY_REPORTS was never set in
# this azd environment, set it to true and provision again (incremental: it adds the system topic,
# the subscription and the app setting). An explicit `false` is left alone: the operator chose it.
set -eu

current=$(azd env get-value CMK_DELIVERY_REPORTS 2>/dev/null || true)
case "$current" in
  true|false)
    echo "delivery reports: CMK_DELIVERY_REPORTS=$current in this azd environment, nothing to do"
    ;;
  *)
    echo "delivery reports: wiring them now that the function is deployed (azd provision)"
    azd env set CMK_DELIVERY_REPORTS true
    azd provision --no-prompt
    ;;
esac
