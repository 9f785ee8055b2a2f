//! The authorizer's configuration, read from the environment template.yaml sets
//! (`TokenAuthorizerFunction`): comma-separated lists, tenants may be `any`.

use entrawatch_validator::{Tenants, ValidatorConfig};

/// Public Entra ID (REFERENCE.md §6). National clouds and the emulator override it.
pub const DEFAULT_LOGIN_URL: &str = "https://login.microsoftonline.com";

pub const TENANTS: &str = "ENTRAWATCH_AUTH_TENANTS";
pub const AUDIENCES: &str = "ENTRAWATCH_AUTH_AUDIENCES";
pub const REQUIRED_SCOPES: &str = "ENTRAWATCH_AUTH_REQUIRED_SCOPES";
pub const REQUIRED_ROLES: &str = "ENTRAWATCH_AUTH_REQUIRED_ROLES";
pub const ALLOWED_CLIENT_APPS: &str = "ENTRAWATCH_AUTH_ALLOWED_CLIENT_APPS";
pub const LOGIN_URL: &str = "ENTRAWATCH_AUTH_LOGIN_URL";
/// The validator's `issuers` option: national clouds (`https://login.microsoftonline.us/{tenantid}/v2.0`)
/// or non-Entra issuers; empty means Entra's public-cloud v1 and v2 issuers.
pub const ISSUERS: &str = "ENTRAWATCH_AUTH_ISSUERS";
/// The validator's JWKS URL option: overrides `{login}/{tenant}/discovery/v2.0/keys` (a non-Entra
/// provider's `jwks_uri`, or an app's `...?appid=` keys).
pub const JWKS_URL: &str = "ENTRAWATCH_AUTH_JWKS_URL";

/// What the authorizer checks and where it gets the signing keys.
#[derive(Debug, Clone)]
pub struct Settings {
    pub validator: ValidatorConfig,
    /// `{login}/{tenant}/discovery/v2.0/keys`, or `common` when more than one tenant is accepted
    /// (every tenant's document lists the same keys, REFERENCE.md §6).
    pub jwks_url: String,
}

fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (tests pass a map). Errors name the variable and the fix.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let tenant_list = list(lookup(TENANTS));
        let tenants = match tenant_list.as_slice() {
            [] => {
                return Err(format!(
                    "{TENANTS} is empty: set the tenant ids (GUIDs) whose tokens the API accepts, or \"any\""
                ))
            }
            [word] if word.eq_ignore_ascii_case("any") => Tenants::Any,
            _ if tenant_list.iter().any(|t| t.eq_ignore_ascii_case("any")) => {
                return Err(format!(
                    "{TENANTS}: \"any\" cannot be combined with tenant ids"
                ))
            }
            _ => Tenants::Only(tenant_list.clone()),
        };
        let audiences = list(lookup(AUDIENCES));
        if audiences.is_empty() {
            return Err(format!(
                "{AUDIENCES} is empty: set the API's App ID URI (api://...) and/or client id; \
                 without it tokens minted for other APIs would pass"
            ));
        }
        let mut validator = ValidatorConfig::new(tenants, audiences);
        validator.required_scopes = list(lookup(REQUIRED_SCOPES));
        validator.required_roles = list(lookup(REQUIRED_ROLES));
        validator.allowed_client_apps = list(lookup(ALLOWED_CLIENT_APPS));
        validator.issuers = list(lookup(ISSUERS));
        if let Some(bad) = validator
            .issuers
            .iter()
            .find(|i| !i.starts_with("https://"))
        {
            return Err(format!(
                "{ISSUERS}: {bad:?} is not an https issuer (e.g. https://login.microsoftonline.us/{{tenantid}}/v2.0)"
            ));
        }

        let login = lookup(LOGIN_URL)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_LOGIN_URL.to_string());
        let tenant_segment = match &validator.tenants {
            Tenants::Only(list) if list.len() == 1 => list[0].to_ascii_lowercase(),
            _ => "common".to_string(),
        };
        let (jwks_url, source) = match lookup(JWKS_URL).map(|s| s.trim().to_string()) {
            Some(url) if !url.is_empty() => (url, JWKS_URL),
            _ => (
                format!(
                    "{}/{tenant_segment}/discovery/v2.0/keys",
                    login.trim_end_matches('/')
                ),
                LOGIN_URL,
            ),
        };
        entrawatch_core::jwks_fetch::checked_url(&jwks_url)
            .map_err(|e| format!("{source}: {e}"))?;
        Ok(Settings {
            validator,
            jwks_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| env.get(name).cloned())
    }

    #[test]
    fn one_tenant_fetches_that_tenants_keys() {
        let s = settings(&[
            (TENANTS, " 11111111-2222-3333-4444-555555555555 "),
            (AUDIENCES, "api://x, aaaaaaaa-bbbb-cccc-dddd-000000000001"),
            (REQUIRED_SCOPES, "Alerts.Read,"),
        ])
        .unwrap();
        assert_eq!(
            s.jwks_url,
            "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/discovery/v2.0/keys"
        );
        assert_eq!(s.validator.audiences.len(), 2);
        assert_eq!(s.validator.required_scopes, ["Alerts.Read"]);
        assert!(s.validator.required_roles.is_empty());
    }

    #[test]
    fn any_or_several_tenants_fetch_the_common_keys() {
        let any = settings(&[(TENANTS, "any"), (AUDIENCES, "api://x")]).unwrap();
        assert_eq!(any.validator.tenants, Tenants::Any);
        assert!(any.jwks_url.ends_with("/common/discovery/v2.0/keys"));
        let two = settings(&[
            (
                TENANTS,
                "11111111-2222-3333-4444-555555555555,21111111-2222-3333-4444-555555555555",
            ),
            (AUDIENCES, "api://x"),
        ])
        .unwrap();
        assert!(two.jwks_url.ends_with("/common/discovery/v2.0/keys"));
    }

    #[test]
    fn missing_tenants_or_audiences_are_refused_with_the_variable_name() {
        let e = settings(&[(AUDIENCES, "api://x")]).unwrap_err();
        assert!(e.contains(TENANTS), "{e}");
        let e = settings(&[(TENANTS, "any"), (AUDIENCES, " , ")]).unwrap_err();
        assert!(e.contains(AUDIENCES), "{e}");
        let e = settings(&[
            (TENANTS, "any,11111111-2222-3333-4444-555555555555"),
            (AUDIENCES, "a"),
        ])
        .unwrap_err();
        assert!(e.contains("cannot be combined"), "{e}");
    }

    #[test]
    fn issuers_and_jwks_url_come_from_the_environment() {
        let s = settings(&[
            (TENANTS, "any"),
            (AUDIENCES, "api://x"),
            (ISSUERS, "https://login.microsoftonline.us/{tenantid}/v2.0, https://sts.windows.net/{tenantid}/"),
            (LOGIN_URL, "https://login.microsoftonline.us"),
        ])
        .unwrap();
        assert_eq!(
            s.validator.issuers,
            [
                "https://login.microsoftonline.us/{tenantid}/v2.0",
                "https://sts.windows.net/{tenantid}/"
            ]
        );
        assert_eq!(
            s.jwks_url,
            "https://login.microsoftonline.us/common/discovery/v2.0/keys"
        );
        let custom = settings(&[
            (TENANTS, "any"),
            (AUDIENCES, "api://x"),
            (ISSUERS, "https://idp.example"),
            (JWKS_URL, " https://idp.example/jwks.json "),
        ])
        .unwrap();
        assert_eq!(custom.jwks_url, "https://idp.example/jwks.json");
        let e = settings(&[
            (TENANTS, "any"),
            (AUDIENCES, "a"),
            (JWKS_URL, "http://idp.example/k"),
        ])
        .unwrap_err();
        assert!(e.contains(JWKS_URL), "{e}");
        let e =
            settings(&[(TENANTS, "any"), (AUDIENCES, "a"), (ISSUERS, "idp.example")]).unwrap_err();
        assert!(e.contains(ISSUERS), "{e}");
    }

    #[test]
    fn plain_http_login_url_is_refused_off_loopback() {
        let base = [(TENANTS, "any"), (AUDIENCES, "api://x")];
        let mut bad = base.to_vec();
        bad.push((LOGIN_URL, "http://login.example.com"));
        assert!(settings(&bad).unwrap_err().contains(LOGIN_URL));
        let mut local = base.to_vec();
        local.push((LOGIN_URL, "http://127.0.0.1:8080/"));
        assert_eq!(
            settings(&local).unwrap().jwks_url,
            "http://127.0.0.1:8080/common/discovery/v2.0/keys"
        );
    }
}
