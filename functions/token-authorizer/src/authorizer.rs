//! The decision: one bearer token in, allow / deny (403) / unauthorized (401) out, answered in
//! the shape the calling API understands.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use entrawatch_validator::{
    decompose, CachePolicy, Error, ErrorCode, Principal, Validated, Validator,
};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{json, Map, Value};

use crate::events::{
    stage_wildcard, AuthorizerResponse, Effect, IamPolicyResponse, RawEvent, Shape, SimpleResponse,
};
use crate::key_source::{Clock, KeySource};
use crate::settings::Settings;

/// The outcome for one token.
#[derive(Debug)]
pub enum Verdict {
    Allow(Box<Validated>),
    /// The token is genuine but lacks a required scope, role or client app (403). `principal`
    /// names who was refused, for the API's access log.
    Deny {
        error: Error,
        principal: Option<Principal>,
    },
    /// No token, or not a valid one (401).
    Unauthorized(Error),
}

pub struct Authorizer {
    validator: Validator,
    /// The same checks without the permission rules: identifies the caller of a 403.
    identity_only: Validator,
    keys: KeySource,
    clock: Arc<Clock>,
}

fn system_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Authorizer {
    /// Checks the settings (tenant ids are GUIDs, audiences present) and prepares an empty key cache.
    pub fn new(settings: Settings, http: reqwest::Client) -> Result<Self, String> {
        let invalid = |e: Error| format!("token authorizer settings: {}", e.message());
        let mut identity = settings.validator.clone();
        identity.required_scopes.clear();
        identity.required_roles.clear();
        identity.allowed_client_apps.clear();
        Ok(Authorizer {
            validator: Validator::new(settings.validator).map_err(invalid)?,
            identity_only: Validator::new(identity).map_err(invalid)?,
            keys: KeySource::new(settings.jwks_url, http, CachePolicy::default()),
            clock: Arc::new(system_now),
        })
    }

    /// Replaces the wall clock (tests).
    pub fn with_clock(mut self, clock: Arc<Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Decides on an `Authorization` value (`Bearer <token>` or the bare token).
    pub async fn authorize(&self, authorization: Option<&str>) -> Verdict {
        let Some(token) = authorization
            .map(entrawatch_validator::strip_bearer)
            .filter(|t| !t.is_empty())
        else {
            return Verdict::Unauthorized(Error::new(
                ErrorCode::Malformed,
                "the request carries no bearer token",
            ));
        };
        // Split first: a token that is not even a JWS is refused without touching the key cache.
        let max = self.validator.config().max_token_bytes;
        let kid = match decompose(token, max) {
            Ok(compact) => compact.header.kid,
            Err(e) => return Verdict::Unauthorized(e),
        };
        let now = (self.clock)();
        let checked = self
            .keys
            .with_keys(kid.as_deref(), self.clock.as_ref(), |keys| {
                match self.validator.validate(token, keys, now) {
                    Ok(valid) => Verdict::Allow(Box::new(valid)),
                    Err(error) if error.status() == 403 => Verdict::Deny {
                        principal: self
                            .identity_only
                            .validate(token, keys, now)
                            .ok()
                            .map(|v| v.principal),
                        error,
                    },
                    Err(error) => Verdict::Unauthorized(error),
                }
            })
            .await;
        checked.unwrap_or_else(Verdict::Unauthorized)
    }
}

/// `oid`, or for a token without one `sub`, then the client app id.
fn principal_id(valid: &Validated) -> String {
    let sub = valid.claims.get("sub").and_then(Value::as_str);
    valid
        .principal
        .oid
        .as_deref()
        .or(sub)
        .or(valid.principal.app_id.as_deref())
        .unwrap_or("unknown")
        .to_string()
}

/// What the API's integration sees as `$context.authorizer.*` (REST) or
/// `requestContext.authorizer.lambda` (HTTP): strings and booleans only, as API Gateway requires.
fn allow_context(valid: &Validated) -> Map<String, Value> {
    let p = &valid.principal;
    let text = |v: &Option<String>| json!(v.as_deref().unwrap_or(""));
    let mut context = Map::new();
    context.insert("oid".into(), text(&p.oid));
    context.insert("tid".into(), text(&p.tid));
    context.insert("appId".into(), text(&p.app_id));
    context.insert("scopes".into(), json!(p.scopes.join(" ")));
    context.insert("roles".into(), json!(p.roles.join(" ")));
    context.insert("appOnly".into(), json!(p.app_only));
    context
}

/// The refusal, for a gateway response template (`$context.authorizer.wwwAuthenticate` as the
/// RFC 6750 `WWW-Authenticate` header of a 403).
fn refusal_context(error: &Error) -> Map<String, Value> {
    let mut context = Map::new();
    context.insert("error".into(), json!(error.code()));
    context.insert("status".into(), json!(error.status()));
    context.insert("wwwAuthenticate".into(), json!(error.www_authenticate()));
    context
}

/// API Gateway answers 401 only when a REST authorizer fails with exactly this message.
fn unauthorized() -> Diagnostic {
    Diagnostic {
        error_type: "Unauthorized".into(),
        error_message: "Unauthorized".into(),
    }
}

/// One authorizer invocation.
pub async fn handle(
    authorizer: &Authorizer,
    event: LambdaEvent<RawEvent>,
) -> Result<AuthorizerResponse, Diagnostic> {
    let event = event.payload;
    let verdict = authorizer.authorize(event.authorization()).await;
    match &verdict {
        Verdict::Allow(valid) => tracing::debug!(
            principal = %principal_id(valid),
            tid = valid.principal.tid.as_deref().unwrap_or(""),
            "token accepted"
        ),
        Verdict::Deny { error, principal } => tracing::info!(
            code = error.code(),
            reason = error.message(),
            principal = principal
                .as_ref()
                .and_then(|p| p.oid.as_deref())
                .unwrap_or(""),
            "token lacks a required permission"
        ),
        Verdict::Unauthorized(error) => {
            tracing::info!(
                code = error.code(),
                reason = error.message(),
                "token refused"
            )
        }
    }
    match event.shape() {
        Shape::Simple => Ok(AuthorizerResponse::Simple(match verdict {
            Verdict::Allow(valid) => SimpleResponse {
                is_authorized: true,
                context: allow_context(&valid),
            },
            Verdict::Deny { error, .. } | Verdict::Unauthorized(error) => SimpleResponse {
                is_authorized: false,
                context: refusal_context(&error),
            },
        })),
        Shape::IamPolicy => {
            let Some(resource) = event.resource_arn().map(stage_wildcard) else {
                tracing::error!("authorizer event has no methodArn; refusing");
                return Err(unauthorized());
            };
            match verdict {
                Verdict::Allow(valid) => Ok(AuthorizerResponse::Policy(IamPolicyResponse::new(
                    principal_id(&valid),
                    Effect::Allow,
                    resource,
                    allow_context(&valid),
                ))),
                Verdict::Deny { error, principal } => {
                    let id = principal
                        .and_then(|p| p.oid.or(p.app_id))
                        .unwrap_or_else(|| "unknown".into());
                    Ok(AuthorizerResponse::Policy(IamPolicyResponse::new(
                        id,
                        Effect::Deny,
                        resource,
                        refusal_context(&error),
                    )))
                }
                Verdict::Unauthorized(_) => Err(unauthorized()),
            }
        }
    }
}
