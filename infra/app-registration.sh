#!/usr/bin/env bash
# Creates the Entra ID app registration entrawatch reads Graph with, with least privilege, using the az CLI.
#
#   infra/app-registration.sh --name entrawatch --certificate cert.pem
#   infra/app-registration.sh --name entrawatch --aws-role-arn arn:aws:iam::123456789012:role/entrawatch-BreakGlass... \
#                             --aws-issuer https://<id>.tokens.sts.global.api.aws
#   infra/app-registration.sh --name entrawatch-pool-1 --multi-tenant --certificate cert.pem
#
# --multi-tenant registers one app that many tenants consent to (an MSP's registration, sign-in audience
# AzureADMultipleOrgs): Graph's reports limits are per app across all its tenants (infra/README.md section 5 says how
# many tenants one app serves and when to register another). The script prints the admin consent link an
# administrator of each customer tenant opens once (Entra docs `v2-admin-consent.md`: the `.default` scope grants
# the permissions configured below; the browser then lands on the registered redirect URI with
# `admin_consent=True`, a page that need not exist).
# Application permissions (admin consent required), each looked up by name on the Microsoft Graph service principal
# rather than hard-coded ids:
#   AuditLog.Read.All              sign-in and directory audit logs, signInActivity (break-glass, dormant)
#   User.Read.All                  users and their properties (dormant, emergency-account lookups)
#   Directory.Read.All             still required by the sign-in log API next to AuditLog.Read.All (Graph docs
#                                  `signin-list`, permissions table) and for role-assignable group members
#   RoleManagement.Read.Directory  role definitions, assignments and PIM eligibility (privileged population)
#   PrivilegedEligibilitySchedule.Read.AzureADGroup
#                                  PIM for Groups eligibility of groups holding a privileged role
#   Application.Read.All           app registrations and service principals with their credentials' names and
#                                  dates, application permission grants (workloads; Graph docs `application-list`,
#                                  `serviceprincipal-list-approleassignedto`); never the credential material
#   Policy.Read.All                Conditional Access policies (emergency-account posture, `ca_exclusion`; Graph docs
#                                  `conditionalaccessroot-list-policies`)
#   UserAuthenticationMethod.Read.All
#                                  the emergency accounts' registered methods (`phishing_resistant_method`; Graph
#                                  docs `authentication-list-methods`); read for those few accounts only
# Nothing here can write to the directory.
#
# Credentials: a certificate (PS256 client assertion; upload only the public certificate) or an AWS outbound
# web identity federated credential (no secret at all; REFERENCE.md §5). Client secrets are deliberately not offered.
set -euo pipefail

name=entrawatch
certificate=
aws_role_arn=
aws_issuer=
audience=AzureADMyOrg
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --certificate) certificate=$2; shift 2 ;;
    --aws-role-arn) aws_role_arn=$2; shift 2 ;;
    --aws-issuer) aws_issuer=$2; shift 2 ;;
    --multi-tenant) audience=AzureADMultipleOrgs; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$certificate" ] && [ -z "$aws_role_arn" ]; then
  echo "give --certificate PEM or --aws-role-arn ARN --aws-issuer URL" >&2
  exit 2
fi

graph=00000003-0000-0000-c000-000000000000   # Microsoft Graph's well-known application id
permissions=(AuditLog.Read.All User.Read.All Directory.Read.All RoleManagement.Read.Directory
  PrivilegedEligibilitySchedule.Read.AzureADGroup Application.Read.All Policy.Read.All
  UserAuthenticationMethod.Read.All)

consent_redirect=https://localhost/entrawatch-consent
extra=()
[ "$audience" = AzureADMultipleOrgs ] && extra=(--web-redirect-uris "$consent_redirect")
app_id=$(az ad app create --display-name "$name" --sign-in-audience "$audience" "${extra[@]}" --query appId -o tsv)
az ad sp create --id "$app_id" >/dev/null
echo "app registration $name: client id $app_id"

for p in "${permissions[@]}"; do
  role=$(az ad sp show --id "$graph" --query "appRoles[?value=='$p'].id | [0]" -o tsv)
  [ -n "$role" ] || { echo "Graph has no application permission named $p" >&2; exit 1; }
  az ad app permission add --id "$app_id" --api "$graph" --api-permissions "$role=Role" >/dev/null
  echo "  permission $p ($role)"
done
# Needs a Privileged Role Administrator or Global Administrator; otherwise grant consent in the portal.
az ad app permission admin-consent --id "$app_id"

if [ -n "$certificate" ]; then
  # Only the public certificate is uploaded; strip any private key from what is sent.
  public=$(mktemp)
  trap 'rm -f "$public"' EXIT
  openssl x509 -in "$certificate" -out "$public"
  az ad app credential reset --id "$app_id" --cert "@$public" --append >/dev/null
  echo "  certificate credential added"
fi
if [ -n "$aws_role_arn" ]; then
  [ -n "$aws_issuer" ] || { echo "--aws-role-arn needs --aws-issuer (aws iam get-outbound-web-identity-federation-info)" >&2; exit 2; }
  params=$(mktemp)
  trap 'rm -f "$params"' EXIT
  cat >"$params" <<JSON
{"name": "aws-${name}", "issuer": "${aws_issuer}", "subject": "${aws_role_arn}",
 "audiences": ["api://AzureADTokenExchange"], "description": "entrawatch Lambda role (AWS STS GetWebIdentityToken)"}
JSON
  az ad app federated-credential create --id "$app_id" --parameters "@$params" >/dev/null
  echo "  federated credential for $aws_role_arn added"
fi
echo "tenant id: $(az account show --query tenantId -o tsv); put it and the client id in the entrawatch configuration"
if [ "$audience" = AzureADMultipleOrgs ]; then
  echo "multi-tenant: an administrator of each customer tenant opens, once (Privileged Role Administrator or Global Administrator):"
  echo "  https://login.microsoftonline.com/<customer tenant id>/v2.0/adminconsent?client_id=$app_id&scope=https://graph.microsoft.com/.default&redirect_uri=$consent_redirect"
  echo "then each customer's [[tenants]] entry names its tenant id and client_id = \"$app_id\" (the credential is this app's)"
fi
