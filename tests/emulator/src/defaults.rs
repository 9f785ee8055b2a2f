//! Completing scenario log events so every response carries the full Graph shape, however terse the
//! scenario file (property lists from msgraph-metadata, see graph-examples/schema-extract-*.json).

use serde_json::{json, Map, Value};
use sha2::Digest;

/// signIn properties on v1.0 (msgraph-metadata v1.0 CSDL) plus the inherited `id`.
pub const V1_SIGN_IN_PROPS: [&str; 30] = [
    "id",
    "appDisplayName",
    "appId",
    "appliedConditionalAccessPolicies",
    "authenticationAppDeviceDetails",
    "clientAppUsed",
    "conditionalAccessStatus",
    "correlationId",
    "createdDateTime",
    "deviceDetail",
    "homeTenantId",
    "ipAddress",
    "isInteractive",
    "location",
    "resourceDisplayName",
    "resourceId",
    "resourceTenantId",
    "riskDetail",
    "riskEventTypes",
    "riskEventTypes_v2",
    "riskLevelAggregated",
    "riskLevelDuringSignIn",
    "riskState",
    "servicePrincipalId",
    "servicePrincipalName",
    "status",
    "userAgent",
    "userDisplayName",
    "userId",
    "userPrincipalName",
];

/// A stable GUID-shaped value derived from `seed`, so the same scenario always yields the same ids.
pub fn derived_guid(seed: &str) -> String {
    let h = sha2::Sha256::digest(seed.as_bytes());
    let x: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// `failureReason` texts for the error codes entrawatch cares about (Entra docs `reference-error-codes`).
fn failure_reason(code: i64) -> Value {
    let text = match code {
        0 => return Value::Null,
        50126 => "Error validating credentials due to invalid username or password.",
        50053 => "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
        50057 => "User account is disabled. The account has been disabled by an administrator.",
        53003 => "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        50074 => "Strong Authentication is required.",
        500121 => "Authentication failed during strong authentication request.",
        _ => "Other.",
    };
    json!(text)
}

fn put(o: &mut Map<String, Value>, k: &str, v: Value) {
    o.entry(k.to_string()).or_insert(v);
}

pub fn fill_sign_in(o: &mut Map<String, Value>, event_type: &str) {
    let id = o
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let interactive = event_type == "interactiveUser";
    put(o, "isInteractive", json!(interactive));
    put(
        o,
        "correlationId",
        json!(derived_guid(&format!("correlation:{id}"))),
    );
    for k in [
        "userDisplayName",
        "userPrincipalName",
        "userId",
        "servicePrincipalId",
        "servicePrincipalName",
        "homeTenantId",
        "resourceTenantId",
        "userAgent",
        "authenticationAppDeviceDetails",
    ] {
        put(o, k, Value::Null);
    }
    put(o, "appId", json!("c44b4083-3bb0-49c1-b47d-974e53cbdf3c"));
    put(o, "appDisplayName", json!("Azure Portal"));
    put(o, "ipAddress", json!("203.0.113.10"));
    put(
        o,
        "clientAppUsed",
        json!(if interactive {
            "Browser"
        } else {
            "Mobile Apps and Desktop clients"
        }),
    );
    put(o, "conditionalAccessStatus", json!("notApplied"));
    for k in [
        "riskDetail",
        "riskLevelAggregated",
        "riskLevelDuringSignIn",
        "riskState",
    ] {
        put(o, k, json!("none"));
    }
    put(o, "riskEventTypes", json!([]));
    put(o, "riskEventTypes_v2", json!([]));
    put(o, "resourceDisplayName", json!("Microsoft Graph"));
    put(
        o,
        "resourceId",
        json!("00000003-0000-0000-c000-000000000000"),
    );
    let code = o
        .get("status")
        .and_then(|s| s.get("errorCode"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    match o.get_mut("status").and_then(Value::as_object_mut) {
        Some(s) if !s.is_empty() => {
            s.entry("failureReason").or_insert(failure_reason(code));
            s.entry("additionalDetails").or_insert(Value::Null);
        }
        Some(_) => {} // `status: {}` is a real Graph shape (graph-examples/README.md): keep it.
        None => {
            o.insert(
                "status".into(),
                json!({"errorCode": 0, "failureReason": null, "additionalDetails": null}),
            );
        }
    }
    put(
        o,
        "deviceDetail",
        json!({"deviceId": "", "displayName": null, "operatingSystem": "Windows 10", "browser": "Edge 120.0.0",
        "isCompliant": null, "isManaged": null, "trustType": null}),
    );
    put(
        o,
        "location",
        json!({"city": "Redmond", "state": "Washington", "countryOrRegion": "US",
        "geoCoordinates": {"altitude": null, "latitude": 47.68, "longitude": -122.12}}),
    );
    put(o, "appliedConditionalAccessPolicies", json!([]));
    // Beta-only members (Graph beta docs `resources/signin`).
    put(o, "signInEventTypes", json!([event_type]));
    put(
        o,
        "authenticationRequirement",
        json!("singleFactorAuthentication"),
    );
    put(o, "tokenIssuerType", json!("AzureAD"));
    put(o, "tokenIssuerName", Value::Null);
    put(o, "processingTimeInMilliseconds", json!(100));
    put(o, "authenticationDetails", json!([]));
    put(o, "authenticationProcessingDetails", json!([]));
    put(o, "networkLocationDetails", json!([]));
    put(
        o,
        "userType",
        json!(if o.get("userId").is_some_and(|v| !v.is_null()) {
            "member"
        } else {
            "unknownFutureValue"
        }),
    );
}

/// The v1.0 view of a stored sign-in: beta-only members removed.
pub fn v1_sign_in(v: &Value) -> Value {
    match v.as_object() {
        Some(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| V1_SIGN_IN_PROPS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => v.clone(),
    }
}

pub fn fill_audit(o: &mut Map<String, Value>) {
    let id = o
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    put(o, "category", json!("UserManagement"));
    put(
        o,
        "correlationId",
        json!(derived_guid(&format!("correlation:{id}"))),
    );
    put(o, "result", json!("success"));
    put(o, "resultReason", json!(""));
    put(o, "activityDisplayName", json!("Update user"));
    put(o, "loggedByService", json!("Core Directory"));
    put(o, "operationType", json!("Update"));
    put(o, "initiatedBy", json!({"user": null, "app": null}));
    put(o, "targetResources", json!([]));
    put(o, "additionalDetails", json!([]));
}
