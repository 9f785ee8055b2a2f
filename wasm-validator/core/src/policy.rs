//! Entra ID claim rules, applied to a [`VerifiedToken`] only (Entra docs `access-tokens.md`,
//! "Validate tokens"; RFC 7519 §4.1).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::{is_guid, Tenants, ValidatorConfig, TENANT_ID};
use crate::error::{err, Error, ErrorCode};
use crate::verify::VerifiedToken;

/// Microsoft Graph's application id and URI: tokens for Graph cannot be verified by anyone else.
const GRAPH_AUDIENCES: [&str; 3] = [
    "00000003-0000-0000-c000-000000000000",
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
];
/// RFC 7519 §2 NumericDate; year 9999 as the upper bound refuses absurd values early.
const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// Who is calling, derived from the verified claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    pub oid: Option<String>,
    pub tid: Option<String>,
    /// The client application: `azp` (v2) or `appid` (v1).
    pub app_id: Option<String>,
    /// No user involved: `idtyp` is `app`, or no `scp` and `oid == sub` (Entra `access-tokens.md`).
    pub app_only: bool,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
}

/// A token that passed the signature and every policy rule.
#[derive(Debug, Clone, Serialize)]
pub struct Validated {
    pub claims: Map<String, Value>,
    pub principal: Principal,
    /// `exp` in seconds: caches must not keep the verdict past it.
    #[serde(skip)]
    pub exp: u64,
}

impl Validated {
    /// `{"ok":true,"claims":{...},"principal":{...}}`, the SPEC.md result shape.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"ok\":true,");
        let body = serde_json::to_string(self).unwrap_or_else(|_| "{}".into());
        out.push_str(&body[1..]);
        out
    }
}

fn str_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, Error> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(err(
            ErrorCode::Malformed,
            format!("claim {name} must be a string"),
        )),
    }
}

/// RFC 7519 §2: a JSON number of seconds; strings, negatives and huge values are malformed.
fn date_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, Error> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if (0.0..=MAX_NUMERIC_DATE).contains(&f) => Ok(Some(f.floor() as u64)),
            _ => Err(err(
                ErrorCode::Malformed,
                format!("claim {name} is out of range"),
            )),
        },
        Some(_) => Err(err(
            ErrorCode::Malformed,
            format!("claim {name} must be a number"),
        )),
    }
}

fn audiences(claims: &Map<String, Value>) -> Result<Vec<&str>, Error> {
    match claims.get("aud") {
        Some(Value::String(s)) => Ok(vec![s.as_str()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| err(ErrorCode::Malformed, "aud must hold strings"))
            })
            .collect(),
        Some(_) => Err(err(ErrorCode::Malformed, "aud must be a string or array")),
        None => Err(err(ErrorCode::AudienceInvalid, "token has no aud claim")),
    }
}

const V1_ISSUER: (&str, &str) = ("https://sts.windows.net/", "/");
const V2_ISSUER: (&str, &str) = ("https://login.microsoftonline.com/", "/v2.0");

/// Whether `iss` is `prefix + tid + suffix`, without building the string (hot path).
fn is_issuer(iss: &str, (prefix, suffix): (&str, &str), tid: &str) -> bool {
    iss.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .is_some_and(|t| t == tid)
}

/// Applies every claim rule in a fixed order; the first failure is returned.
pub fn check(config: &ValidatorConfig, token: VerifiedToken, now: u64) -> Result<Validated, Error> {
    let claims = token.claims();
    let aud = audiences(claims)?;
    if aud.iter().any(|a| GRAPH_AUDIENCES.contains(a)) {
        return Err(err(
            ErrorCode::GraphTokenNotVerifiable,
            "token is for Microsoft Graph; only Graph can validate it",
        ));
    }

    let skew = config.clock_skew_seconds;
    let exp = date_claim(claims, "exp")?
        .ok_or_else(|| err(ErrorCode::TokenExpired, "token has no exp claim"))?;
    if now >= exp.saturating_add(skew) {
        return Err(err(ErrorCode::TokenExpired, "token has expired"));
    }
    for name in ["nbf", "iat"] {
        if date_claim(claims, name)?.is_some_and(|t| t > now.saturating_add(skew)) {
            return Err(err(
                ErrorCode::TokenNotYetValid,
                format!("token {name} is in the future"),
            ));
        }
    }

    let iss = str_claim(claims, "iss")?.ok_or_else(|| err(ErrorCode::IssuerInvalid, "no iss"))?;
    let tid = str_claim(claims, "tid")?;
    check_tenant_and_issuer(config, iss, tid)?;
    check_key_issuer(config, &token, iss, tid)?;

    if !aud.iter().any(|a| config.audiences.iter().any(|c| c == a)) {
        return Err(err(
            ErrorCode::AudienceInvalid,
            "aud is not one of this API's audiences",
        ));
    }

    let app_id = match str_claim(claims, "azp")? {
        Some(azp) => Some(azp),
        None => str_claim(claims, "appid")?,
    };
    let allowed = &config.allowed_client_apps;
    if !allowed.is_empty() && !app_id.is_some_and(|a| allowed.iter().any(|c| c == a)) {
        return Err(err(
            ErrorCode::ClientNotAllowed,
            "calling application is not allowed",
        ));
    }

    let scp = str_claim(claims, "scp")?;
    let scopes: Vec<String> = scp
        .map(|s| s.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    let roles: Vec<String> = match claims.get("roles") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .ok_or_else(|| err(ErrorCode::Malformed, "roles must hold strings"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(err(ErrorCode::Malformed, "roles must be an array")),
    };
    check_permissions(config, &scopes, &roles)?;

    let oid = str_claim(claims, "oid")?;
    let sub = str_claim(claims, "sub")?;
    let app_only = str_claim(claims, "idtyp")? == Some("app")
        || (scp.is_none() && oid.is_some() && oid == sub);
    let principal = Principal {
        oid: oid.map(String::from),
        tid: tid.map(String::from),
        app_id: app_id.map(String::from),
        app_only,
        scopes,
        roles,
    };
    Ok(Validated {
        claims: token.into_claims(),
        principal,
        exp,
    })
}

fn check_tenant_and_issuer(
    config: &ValidatorConfig,
    iss: &str,
    tid: Option<&str>,
) -> Result<(), Error> {
    if let Tenants::Only(list) = &config.tenants {
        let tid = tid.ok_or_else(|| err(ErrorCode::TenantNotAllowed, "token has no tid claim"))?;
        if !list.iter().any(|t| t == tid) {
            return Err(err(
                ErrorCode::TenantNotAllowed,
                format!("tenant {tid} is not allowed"),
            ));
        }
    }
    if !config.issuers.is_empty() {
        let guid_tid = tid.filter(|t| is_guid(t));
        let matches = |i: &String| match (i.contains(TENANT_ID), guid_tid) {
            (false, _) => i == iss,
            (true, Some(t)) => i.replace(TENANT_ID, t) == iss,
            (true, None) => false,
        };
        return match config.issuers.iter().any(matches) {
            true => Ok(()),
            false => Err(err(
                ErrorCode::IssuerInvalid,
                "iss is not a configured issuer",
            )),
        };
    }
    // Entra: the issuer is fixed by the tenant, so a token from tenant A cannot claim tenant B.
    let tid = tid
        .filter(|t| is_guid(t))
        .ok_or_else(|| err(ErrorCode::IssuerInvalid, "tid claim missing or not a GUID"))?;
    if !is_issuer(iss, V1_ISSUER, tid) && !is_issuer(iss, V2_ISSUER, tid) {
        return Err(err(
            ErrorCode::IssuerInvalid,
            "iss is not the Entra issuer of the token's tid",
        ));
    }
    Ok(())
}

/// Entra `access-tokens.md`, "Validate the signing key issuer": with `{tenantid}` replaced by the
/// token's `tid`, the key's `issuer` must equal the token's `iss`. The v2 key set also signs v1
/// tokens, so a v1 `iss` matches the v2 issuer of the same tenant (as Microsoft.IdentityModel's
/// `AadIssuerValidator` treats both forms as one tenant).
///
/// A key without `issuer` (v1 documents `.../discovery/keys`, non-Entra providers) cannot prove
/// which tenant it signs for. With `tenants: "any"` and an issuer built from `tid` (the Entra
/// issuers or a `{tenantid}` template) it is accepted only when the key set was read from the
/// token's own tenant's document; an allow-list of tenants or of exact issuers binds the tenant.
fn check_key_issuer(
    config: &ValidatorConfig,
    token: &VerifiedToken,
    iss: &str,
    tid: Option<&str>,
) -> Result<(), Error> {
    let mismatch = |m: &str| Err(err(ErrorCode::KeyIssuerMismatch, m.to_owned()));
    let Some(template) = token.key_issuer() else {
        let multi_tenant = config.is_multi_tenant();
        let own_document = tid.is_some() && token.keys_source_tenant() == tid;
        return if !multi_tenant || own_document {
            Ok(())
        } else {
            mismatch(
                "the signing key has no issuer and was not read from the token's tenant's own \
                 JWKS: with tenants \"any\" it cannot prove which tenant it signs for",
            )
        };
    };
    let resolved = match tid {
        Some(tid) => template.replace(TENANT_ID, tid),
        None => template.to_owned(),
    };
    let v1_equivalent =
        tid.is_some_and(|t| is_issuer(iss, V1_ISSUER, t) && is_issuer(&resolved, V2_ISSUER, t));
    if resolved == iss || v1_equivalent {
        Ok(())
    } else {
        mismatch("the signing key's issuer is not the token's issuer")
    }
}

fn check_permissions(
    config: &ValidatorConfig,
    scopes: &[String],
    roles: &[String],
) -> Result<(), Error> {
    let has_all = |need: &[String], have: &[String]| need.iter().all(|n| have.contains(n));
    let (need_scopes, need_roles) = (&config.required_scopes, &config.required_roles);
    let ok = match (need_scopes.is_empty(), need_roles.is_empty()) {
        (true, true) => true,
        (false, true) => has_all(need_scopes, scopes),
        (true, false) => has_all(need_roles, roles),
        (false, false) => has_all(need_scopes, scopes) || has_all(need_roles, roles),
    };
    if ok {
        Ok(())
    } else {
        Err(err(
            ErrorCode::InsufficientScope,
            "token lacks a required scope or role",
        ))
    }
}
