//! `GET /reports/authenticationMethods/userRegistrationDetails` (Graph docs
//! `api/authenticationmethodsroot-list-userregistrationdetails`, `resources/userregistrationdetails`; REFERENCE.md
//! §12): one row per user with the authentication methods they registered. `AuditLog.Read.All`, Entra ID P1/P2
//! like the other reports, counted as a reports request; "this method doesn't work for disabled users", so a
//! disabled user has no row. Served on v1.0 and beta.
//!
//! Rows are computed from the users when a page is read, never stored: a million generated users cost nothing
//! until listed. A scenario user may carry `methodsRegistered` (the report's method names) or
//! `authenticationMethods` (objects with `@odata.type`, as `users/{id}/authentication/methods` lists them); any
//! other user gets a deterministic mix of methods from its id.

use super::{charge, encode_token, graph_caller, offset_from, page, project};
use crate::errors::GraphError;
use crate::generator::mix;
use crate::odata::eval::{each_predicate, matches, predicate_path};
use crate::odata::{Expr, Op, QueryOptions};
use crate::state::Shared;
use crate::tenant::TenantState;
use crate::timefmt;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;

/// The least privileged (and only) application permission of the report (Graph docs, "Permissions").
const REPORT_PERMISSIONS: [&str; 2] = ["AuditLog.Read.All", "Directory.Read.All"];
/// The page size is undocumented; the emulator serves 100 by default and up to 999 (`$top`), and a client must
/// follow `@odata.nextLink` whatever the size.
const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 999;
/// Users one page may examine under a selective filter (as `/users` does), so a page stays fast over a million.
const SCAN_BUDGET: u64 = 20_000;

/// Properties a filter may compare (the docs list filters on the booleans, `userType`, `methodsRegistered` and
/// the UPN).
const FILTERABLE: [&str; 10] = [
    "id",
    "userPrincipalName",
    "userDisplayName",
    "userType",
    "isAdmin",
    "isMfaRegistered",
    "isMfaCapable",
    "isPasswordlessCapable",
    "isSsprRegistered",
    "methodsRegistered",
];

/// Methods that are a second factor (the report's `isMfaRegistered`); `email` and `securityQuestion` only
/// reset passwords.
const MFA_METHODS: [&str; 12] = [
    "mobilePhone",
    "alternateMobilePhone",
    "officePhone",
    "microsoftAuthenticatorPush",
    "microsoftAuthenticatorPasswordless",
    "softwareOneTimePasscode",
    "hardwareOneTimePasscode",
    "fido2",
    "passKeyDeviceBound",
    "passKeyDeviceBoundAuthenticator",
    "windowsHelloForBusiness",
    "temporaryAccessPass",
];
const PASSWORDLESS_METHODS: [&str; 5] = [
    "fido2",
    "passKeyDeviceBound",
    "passKeyDeviceBoundAuthenticator",
    "windowsHelloForBusiness",
    "microsoftAuthenticatorPasswordless",
];

/// The mix generated users get: about a quarter with nothing registered, one in ten with a passkey.
const PROFILES: [&[&str]; 6] = [
    &[],
    &["microsoftAuthenticatorPush", "softwareOneTimePasscode"],
    &["microsoftAuthenticatorPush"],
    &["mobilePhone"],
    &["passKeyDeviceBound", "microsoftAuthenticatorPush"],
    &["email"],
];
const PROFILE_WEIGHTS: [u64; 6] = [25, 30, 10, 15, 10, 10];

/// Maps a `users/{id}/authentication/methods` type to the report's method name.
fn method_of_type(odata_type: &str) -> Option<&'static str> {
    let t = odata_type.trim_start_matches("#microsoft.graph.");
    Some(match t {
        "fido2AuthenticationMethod" => "fido2",
        "microsoftAuthenticatorAuthenticationMethod" => "microsoftAuthenticatorPush",
        "phoneAuthenticationMethod" => "mobilePhone",
        "softwareOathAuthenticationMethod" => "softwareOneTimePasscode",
        "windowsHelloForBusinessAuthenticationMethod" => "windowsHelloForBusiness",
        "emailAuthenticationMethod" => "email",
        "temporaryAccessPassAuthenticationMethod" => "temporaryAccessPass",
        _ => return None,
    })
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn methods_of(user: &Value, id: &str) -> Vec<String> {
    if let Some(list) = user.get("methodsRegistered") {
        return str_list(list);
    }
    if let Some(Value::Array(methods)) = user.get("authenticationMethods") {
        let mut out: Vec<String> = Vec::new();
        for m in methods {
            let name = m
                .get("@odata.type")
                .and_then(Value::as_str)
                .and_then(method_of_type);
            if let Some(name) = name {
                if !out.iter().any(|o| o == name) {
                    out.push(name.to_string());
                }
            }
        }
        return out;
    }
    let h = id
        .bytes()
        .fold(0x5eed_u64, |acc, b| mix(acc ^ u64::from(b)));
    let mut pick = h % PROFILE_WEIGHTS.iter().sum::<u64>();
    for (profile, weight) in PROFILES.iter().zip(PROFILE_WEIGHTS) {
        if pick < weight {
            return profile.iter().map(|s| s.to_string()).collect();
        }
        pick -= weight;
    }
    Vec::new()
}

/// The report's row for `user`, or `None` for a disabled user (the report does not cover them).
pub(crate) fn registration_row(
    user: &Value,
    admins: &HashSet<String>,
    updated: &str,
) -> Option<Value> {
    if user.get("accountEnabled").and_then(Value::as_bool) == Some(false) {
        return None;
    }
    let id = user.get("id").and_then(Value::as_str)?;
    let methods = methods_of(user, id);
    let any_of = |set: &[&str]| methods.iter().any(|m| set.contains(&m.as_str()));
    let mfa = any_of(&MFA_METHODS);
    let guest = user
        .get("userType")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("guest"));
    Some(json!({
        "id": id,
        "userPrincipalName": user.get("userPrincipalName").cloned().unwrap_or(Value::Null),
        "userDisplayName": user.get("displayName").cloned().unwrap_or(Value::Null),
        // `signInUserType`: member | guest (Graph docs `resources/userregistrationdetails`).
        "userType": if guest { "guest" } else { "member" },
        "isAdmin": admins.contains(&id.to_ascii_lowercase()),
        "isSsprRegistered": !methods.is_empty(),
        "isSsprEnabled": false,
        "isSsprCapable": false,
        "isMfaRegistered": mfa,
        "isMfaCapable": mfa,
        "isPasswordlessCapable": any_of(&PASSWORDLESS_METHODS),
        "isSystemPreferredAuthenticationMethodEnabled": false,
        "systemPreferredAuthenticationMethods": [],
        "userPreferredMethodForSecondaryAuthentication": if mfa { "push" } else { "none" },
        "methodsRegistered": methods,
        "lastUpdatedDateTime": updated,
    }))
}

/// Principals of active role assignments: the report's `isAdmin` ("has an admin role").
fn admins(tenant: &TenantState) -> HashSet<String> {
    tenant
        .role_assignments
        .iter()
        .filter_map(|a| a.get("principalId").and_then(Value::as_str))
        .map(str::to_ascii_lowercase)
        .collect()
}

fn check_filter(q: &QueryOptions) -> Result<(), GraphError> {
    let Some(e) = &q.filter else { return Ok(()) };
    each_predicate(e, &mut |p: &Expr| {
        let name = predicate_path(p).unwrap_or_default().join("/");
        let known = FILTERABLE.contains(&name.as_str());
        match p {
            Expr::Cmp {
                op: Op::Eq | Op::Ne,
                ..
            }
            | Expr::Any { .. }
                if known =>
            {
                Ok(())
            }
            _ => Err(format!("the filter on '{name}' is not supported")),
        }
    })
    .map_err(|m| GraphError::bad_request(format!("Invalid filter clause: {m}.")))
}

pub async fn list(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["select", "top", "filter", "skiptoken"])?;
    check_filter(&q)?;
    let size = q.page_size(DEFAULT_PAGE, MAX_PAGE)?;
    if !caller.has_any(&REPORT_PERMISSIONS) {
        return Err(GraphError::audit_permission_missing());
    }
    if !caller.tenant.premium {
        return Err(GraphError::not_premium());
    }
    charge(&shared, &caller, false)?;
    let start = offset_from(&q, "registration")? as u64;
    let tenant = &caller.tenant;
    let admins = admins(tenant);
    let updated = timefmt::format(shared.clock.now());
    let total = tenant.user_count();
    let mut items = Vec::new();
    let mut i = start;
    while i < total && (items.len() as u64) < size && i - start < SCAN_BUDGET {
        let row = tenant
            .user_at(i)
            .and_then(|u| registration_row(&u, &admins, &updated));
        if let Some(row) = row {
            if q.filter.as_ref().is_none_or(|f| matches(f, &row)) {
                items.push(match &q.select {
                    Some(s) => project(&row, s),
                    None => row,
                });
            }
        }
        i += 1;
    }
    let base = "reports/authenticationMethods/userRegistrationDetails";
    let next = (i < total).then(|| {
        q.next_link(
            &shared.base_url(),
            &format!("/{}/{base}", version.segment()),
            &encode_token(&format!("registration:{i}")),
        )
    });
    let context = format!(
        "{}/{}/$metadata#{base}",
        shared.base_url(),
        version.segment()
    );
    Ok(page(context, items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_user_has_no_row_and_methods_decide_the_flags() {
        let admins = HashSet::from(["a".to_string()]);
        let disabled = json!({"id": "d", "accountEnabled": false});
        assert!(registration_row(&disabled, &admins, "2026-12-01T00:00:00Z").is_none());
        let passkey =
            json!({"id": "a", "userType": "Member", "methodsRegistered": ["passKeyDeviceBound"]});
        let row = registration_row(&passkey, &admins, "2026-12-01T00:00:00Z").expect("row");
        assert_eq!(row["isMfaRegistered"], true);
        assert_eq!(row["isPasswordlessCapable"], true);
        assert_eq!(row["isAdmin"], true);
        let email = json!({"id": "e", "userType": "Guest", "methodsRegistered": ["email"]});
        let row = registration_row(&email, &admins, "2026-12-01T00:00:00Z").expect("row");
        assert_eq!(row["isMfaRegistered"], false);
        assert_eq!(row["userType"], "guest");
    }

    #[test]
    fn authentication_methods_map_to_report_names() {
        let user = json!({"id": "u", "authenticationMethods": [
            {"@odata.type": "#microsoft.graph.fido2AuthenticationMethod"},
            {"@odata.type": "#microsoft.graph.passwordAuthenticationMethod"}]});
        assert_eq!(methods_of(&user, "u"), vec!["fido2".to_string()]);
    }
}
