//! What a validator accepts. Field names match the JavaScript `createValidator` options
//! (SPEC.md "Token validator"), so the bindings pass the options through as JSON.

use serde::Deserialize;

use crate::error::{err, Error, ErrorCode};
use crate::jws::DEFAULT_MAX_TOKEN_BYTES;

/// Which tenants' tokens are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tenants {
    /// Multi-tenant API: any tenant, with the issuer built from the token's `tid`, which must be a
    /// GUID, and the key's `issuer` checked (Entra `access-tokens.md`, "multitenant applications").
    Any,
    /// Only these tenant ids (lowercase GUIDs).
    Only(Vec<String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TenantsRepr {
    Word(String),
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for Tenants {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match TenantsRepr::deserialize(d)? {
            TenantsRepr::Word(w) if w == "any" => Ok(Tenants::Any),
            TenantsRepr::Word(w) => Ok(Tenants::Only(vec![w])),
            TenantsRepr::List(list) => Ok(Tenants::Only(list)),
        }
    }
}

/// The placeholder Entra uses in key `issuer` properties and metadata, filled from `tid`.
pub const TENANT_ID: &str = "{tenantid}";

fn default_skew() -> u64 {
    60
}

fn default_max_token_bytes() -> usize {
    DEFAULT_MAX_TOKEN_BYTES
}

/// Validator settings. Every option has a secure default; `tenants` and `audiences` are required
/// because a validator that accepts any audience accepts tokens minted for other APIs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorConfig {
    /// Tenant allow-list, or `"any"`.
    pub tenants: Tenants,
    /// Accepted `aud` values: the API's client id and/or App ID URI (`api://...`). Required.
    pub audiences: Vec<String>,
    /// Scopes (`scp`) a delegated token must all carry. Defaults to none.
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// App roles (`roles`) a token must all carry. When both lists are set, a token passes with
    /// either all the scopes (delegated) or all the roles (app-only), as Microsoft.Identity.Web's
    /// `RequiredScopeOrAppPermission` does. Defaults to none.
    #[serde(default)]
    pub required_roles: Vec<String>,
    /// Client applications (`azp` in v2, `appid` in v1) allowed to call. Defaults to any.
    #[serde(default)]
    pub allowed_client_apps: Vec<String>,
    /// Leeway for `exp`, `nbf` and `iat`. Defaults to 60 s; at most 300 s.
    #[serde(default = "default_skew")]
    pub clock_skew_seconds: u64,
    /// Accepted issuers, instead of Entra's public-cloud ones: national clouds (US Gov
    /// `https://login.microsoftonline.us/{tenantid}/v2.0`, China `https://login.partner.microsoftonline.cn/{tenantid}/v2.0`)
    /// and non-Entra OIDC providers (exact values). `{tenantid}` is filled with the token's `tid`,
    /// which must then be a GUID. Empty (the default) means the Entra v1 and v2 issuers
    /// (`https://sts.windows.net/{tid}/`, `https://login.microsoftonline.com/{tid}/v2.0`).
    #[serde(default)]
    pub issuers: Vec<String>,
    /// Cap on the token length, checked before decoding. Defaults to 16 KiB.
    #[serde(default = "default_max_token_bytes")]
    pub max_token_bytes: usize,
}

impl ValidatorConfig {
    /// A config for one tenant and one audience with every other option at its default.
    pub fn new(tenants: Tenants, audiences: Vec<String>) -> Self {
        ValidatorConfig {
            tenants,
            audiences,
            required_scopes: Vec::new(),
            required_roles: Vec::new(),
            allowed_client_apps: Vec::new(),
            clock_skew_seconds: default_skew(),
            issuers: Vec::new(),
            max_token_bytes: default_max_token_bytes(),
        }
    }

    /// Parses the JSON form (the JavaScript options object).
    pub fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json)
            .map_err(|e| err(ErrorCode::Malformed, format!("validator options: {e}")))
    }

    /// Whether tokens of any tenant pass, with the issuer built from their `tid`: `"any"` with
    /// the Entra issuers or an issuer template. Such a validator needs every key to prove its
    /// tenant (the key-issuer rule).
    pub fn is_multi_tenant(&self) -> bool {
        self.tenants == Tenants::Any
            && (self.issuers.is_empty() || self.issuers.iter().any(|i| i.contains(TENANT_ID)))
    }

    /// Checks the settings and normalises tenant ids to lowercase.
    pub(crate) fn checked(mut self) -> Result<Self, Error> {
        let bad = |m: &str| Err(err(ErrorCode::Malformed, format!("validator options: {m}")));
        if self.audiences.is_empty() || self.audiences.iter().any(String::is_empty) {
            return bad("audiences must list at least one non-empty audience");
        }
        if let Tenants::Only(list) = &mut self.tenants {
            if list.is_empty() {
                return bad("tenants must list at least one tenant id, or be \"any\"");
            }
            for tid in list.iter_mut() {
                *tid = tid.to_ascii_lowercase();
                if !is_guid(tid) {
                    return bad("tenants must be tenant ids (GUIDs), not domain names");
                }
            }
        }
        if self.clock_skew_seconds > 300 {
            return bad("clockSkewSeconds is at most 300");
        }
        if self.max_token_bytes == 0 || self.max_token_bytes > 64 * 1024 {
            return bad("maxTokenBytes must be between 1 and 65536");
        }
        Ok(self)
    }
}

/// 8-4-4-4-12 hexadecimal digits, the form of Entra tenant and object ids.
pub fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_json_uses_the_javascript_names() {
        let c = ValidatorConfig::from_json(
            r#"{"tenants":"any","audiences":["api://x"],"requiredScopes":["read"],"clockSkewSeconds":30}"#,
        )
        .unwrap();
        assert_eq!(c.tenants, Tenants::Any);
        assert_eq!(c.required_scopes, ["read"]);
        assert_eq!(c.clock_skew_seconds, 30);
    }

    #[test]
    fn tenant_given_as_domain_name_is_refused() {
        let c = ValidatorConfig::new(Tenants::Only(vec!["contoso.com".into()]), vec!["a".into()]);
        assert!(c.checked().is_err());
    }

    #[test]
    fn empty_audiences_are_refused() {
        assert!(ValidatorConfig::new(Tenants::Any, vec![])
            .checked()
            .is_err());
    }
}
