//! API Gateway authorizer events and responses, written by hand for the few fields used
//! (AWS docs: `apigateway-lambda-authorizer-input`, `apigateway-lambda-authorizer-output`,
//! `http-api-lambda-authorizer`). Unknown fields are ignored.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Every field any of the three event shapes carries that the authorizer reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawEvent {
    /// `"2.0"` for HTTP API payload format 2.0; absent for REST (and HTTP API format 1.0).
    #[serde(default)]
    pub version: Option<String>,
    /// `TOKEN` or `REQUEST`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// REST `TOKEN`: the identity source header's value.
    #[serde(default)]
    pub authorization_token: Option<String>,
    /// REST (and HTTP format 1.0): the ARN of the method being called.
    #[serde(default)]
    pub method_arn: Option<String>,
    /// HTTP format 2.0: the route's ARN.
    #[serde(default)]
    pub route_arn: Option<String>,
    /// Header values as strings; API Gateway sends `null` when there are none.
    #[serde(default)]
    pub headers: Option<Map<String, Value>>,
}

/// Which response shape the caller understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// REST API (`TOKEN` or `REQUEST`) and HTTP API format 1.0: an IAM policy; 401 by failing
    /// the invocation with `Unauthorized`.
    IamPolicy,
    /// HTTP API format 2.0 with simple responses: `{isAuthorized, context}`.
    Simple,
}

impl RawEvent {
    pub fn shape(&self) -> Shape {
        if self.version.as_deref() == Some("2.0") {
            Shape::Simple
        } else {
            Shape::IamPolicy
        }
    }

    /// The `Authorization` value: `authorizationToken` for `TOKEN` events, otherwise the header,
    /// whatever its case (REST keeps the client's case, HTTP APIs lowercase it).
    pub fn authorization(&self) -> Option<&str> {
        if self.kind.as_deref() == Some("TOKEN") {
            return self.authorization_token.as_deref();
        }
        self.headers
            .as_ref()?
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, value)| value.as_str())
    }

    /// The ARN the policy is about.
    pub fn resource_arn(&self) -> Option<&str> {
        self.method_arn.as_deref().or(self.route_arn.as_deref())
    }
}

/// The policy's `Resource`: every method and path of the calling API's stage, not just the one
/// called. API Gateway caches the policy per token for the authorizer's TTL and applies it to
/// later calls of *any* route; a policy naming only the first `methodArn` would turn those
/// into 403s. The verdict here depends on the token alone (required scopes and roles are the
/// same for every route), so the stage wildcard says exactly what was decided.
/// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{verb}/{path}` → `.../{api}/{stage}/*`;
/// an ARN of another form is used as given.
pub fn stage_wildcard(method_arn: &str) -> String {
    let mut parts = method_arn.splitn(6, ':');
    let prefix: Vec<&str> = parts.by_ref().take(5).collect();
    let Some(path) = parts.next() else {
        return method_arn.to_string();
    };
    let mut segments = path.splitn(3, '/');
    match (segments.next(), segments.next()) {
        (Some(api), Some(stage))
            if prefix.len() == 5
                && prefix[0] == "arn"
                && prefix[1].starts_with("aws")
                && prefix[2] == "execute-api"
                && !api.is_empty()
                && !stage.is_empty() =>
        {
            format!("{}:{api}/{stage}/*", prefix.join(":"))
        }
        _ => method_arn.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Effect")]
    pub effect: Effect,
    #[serde(rename = "Resource")]
    pub resource: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDocument {
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Statement")]
    pub statement: Vec<Statement>,
}

/// The REST authorizer output. `context` values must be strings, numbers or booleans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IamPolicyResponse {
    pub principal_id: String,
    pub policy_document: PolicyDocument,
    pub context: Map<String, Value>,
}

impl IamPolicyResponse {
    pub fn new(
        principal_id: String,
        effect: Effect,
        resource: String,
        context: Map<String, Value>,
    ) -> Self {
        IamPolicyResponse {
            principal_id,
            policy_document: PolicyDocument {
                version: "2012-10-17".into(),
                statement: vec![Statement {
                    action: "execute-api:Invoke".into(),
                    effect,
                    resource,
                }],
            },
            context,
        }
    }
}

/// The HTTP API format 2.0 simple response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimpleResponse {
    pub is_authorized: bool,
    pub context: Map<String, Value>,
}

/// What the handler answers, in the caller's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AuthorizerResponse {
    Policy(IamPolicyResponse),
    Simple(SimpleResponse),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_arn_widens_to_its_stage() {
        assert_eq!(
            stage_wildcard(
                "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/alerts/42"
            ),
            "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/*"
        );
        assert_eq!(
            stage_wildcard("arn:aws-us-gov:execute-api:us-gov-west-1:1:api/stage/POST/"),
            "arn:aws-us-gov:execute-api:us-gov-west-1:1:api/stage/*"
        );
        assert_eq!(
            stage_wildcard("arn:aws:lambda:eu-west-1:1:function/x"),
            "arn:aws:lambda:eu-west-1:1:function/x"
        );
        assert_eq!(stage_wildcard("not-an-arn"), "not-an-arn");
    }

    #[test]
    fn authorization_header_is_found_in_any_case() {
        let event: RawEvent = serde_json::from_value(serde_json::json!({
            "type": "REQUEST", "methodArn": "m", "headers": {"AuThOrIzAtIoN": "Bearer x"}
        }))
        .unwrap();
        assert_eq!(event.authorization(), Some("Bearer x"));
        assert_eq!(event.shape(), Shape::IamPolicy);
        let none: RawEvent =
            serde_json::from_value(serde_json::json!({"type": "REQUEST", "headers": null}))
                .unwrap();
        assert_eq!(none.authorization(), None);
    }
}
