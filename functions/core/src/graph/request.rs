//! Typed Graph requests for what the jobs read. Each builder knows its endpoint, its page size and its filter
//! syntax, so callers never hand-write OData.

use chrono::{DateTime, Utc};

use super::odata::{encode, odata_date, odata_string, path_segment};

mod posture;
mod registration;
mod workload;
pub use workload::AuditSource;

/// Graph API version. Non-interactive sign-ins and `lastSuccessfulSignInDateTime` filters exist only on beta
/// (REFERENCE §1, §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiVersion {
    #[default]
    V1,
    Beta,
}

impl ApiVersion {
    fn prefix(self) -> &'static str {
        match self {
            ApiVersion::V1 => "/v1.0",
            ApiVersion::Beta => "/beta",
        }
    }
}

/// Page sizes (REFERENCE §1, §2; Graph docs `user-list.md`, `signin-list.md`): `/users` allows 999, but only 500
/// when `signInActivity` is selected or filtered; sign-ins and audits allow 1000.
pub const USERS_PAGE: u32 = 999;
pub const USERS_WITH_SIGN_IN_ACTIVITY_PAGE: u32 = 500;
pub const LOGS_PAGE: u32 = 1000;
/// Ids per `id in (...)` lookup: "requests using the `in` operator are limited to 15 expressions in the filter
/// clause by default" (Graph docs `filter-query-parameter.md`, 2024-04-19), so larger sets go in several requests.
pub const IDS_PER_LOOKUP: usize = 15;

/// The user properties the jobs need, `signInActivity` included.
pub const USER_PROPERTIES: &[&str] = &[
    "id",
    "userPrincipalName",
    "displayName",
    "mail",
    "userType",
    "accountEnabled",
    "createdDateTime",
    "onPremisesSyncEnabled",
    "assignedLicenses",
    "externalUserState",
    "externalUserStateChangeDateTime",
    "signInActivity",
];

/// A `createdDateTime` / `activityDateTime` range, both ends included. Always bounded: unbounded log queries time
/// out (REFERENCE §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Which `signInActivity` date a filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInActivityProperty {
    LastSignIn,
    LastNonInteractiveSignIn,
    /// Documented as filterable on beta only (REFERENCE §1).
    LastSuccessfulSignIn,
}

/// `le` or `ge`: what `signInActivity` filters support besides `eq`/`ne`/`not` (REFERENCE §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    OnOrBefore,
    OnOrAfter,
    /// `eq null`: never signed in (the filter's `at` is ignored). Unconfirmed on Graph (REFERENCE §1): probe it
    /// and fall back to a full listing when Graph rejects it.
    IsNull,
}

/// `signInActivity/<property> le|ge <at>`. Graph refuses to combine it with other filterable properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInActivityFilter {
    pub property: SignInActivityProperty,
    pub comparison: Comparison,
    pub at: DateTime<Utc>,
}

/// Users, optionally filtered on a `signInActivity` date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    pub api: ApiVersion,
    pub select: Vec<String>,
    pub sign_in_filter: Option<SignInActivityFilter>,
}

impl Default for UserQuery {
    /// Every user, v1.0, with [`USER_PROPERTIES`].
    fn default() -> Self {
        UserQuery {
            api: ApiVersion::V1,
            select: USER_PROPERTIES.iter().map(|s| s.to_string()).collect(),
            sign_in_filter: None,
        }
    }
}

/// Interactive sign-ins are v1.0; non-interactive ones need beta and a `signInEventTypes` filter (REFERENCE §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInKind {
    Interactive,
    NonInteractive,
    /// Both user kinds in one beta request (`signInEventTypes/any(t: t eq 'interactiveUser' or t eq
    /// 'nonInteractiveUser')`): one reports request instead of two, against a reports budget shared by every
    /// tenant of the app (REFERENCE §4). Each row says which kind it is ([`super::model::SignIn::interactive`]).
    InteractiveAndNonInteractive,
}

/// Sign-ins of some users within a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInQuery {
    pub kind: SignInKind,
    pub window: TimeWindow,
    /// Object ids; all of them go in one filter joined with `or`. Empty means every user.
    pub user_ids: Vec<String>,
}

/// Directory audits that targeted any of some objects within a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Object ids; several go in one filter joined with `or` (one `targetResources/any(...)` each).
    /// Whether Graph accepts more than one is unconfirmed: callers fall back to one id a request on 400.
    pub target_ids: Vec<String>,
    pub window: TimeWindow,
    /// Also the audits of this logging service, in the same request (`... or loggedByService eq '...'`): the
    /// Conditional Access policy changes the posture checks react to. Unconfirmed that Graph accepts the mix:
    /// callers fall back to a request of its own on 400.
    pub also_logged_by: Option<&'static str>,
}

/// One Graph GET: a path under the Graph host and its OData parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphRequest {
    path: String,
    params: Vec<(&'static str, String)>,
    max_page: Option<u32>,
}

impl GraphRequest {
    fn new(api: ApiVersion, path: &str) -> Self {
        GraphRequest {
            path: format!("{}{path}", api.prefix()),
            params: Vec::new(),
            max_page: None,
        }
    }

    fn param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.params.push((name, value.into()));
        self
    }

    fn top(mut self, max: u32) -> Self {
        self.max_page = Some(max);
        self.param("$top", max.to_string())
    }

    /// Users with their properties (and `signInActivity`, 500 a page, if selected or filtered).
    pub fn users(query: &UserQuery) -> Self {
        let with_activity = query.sign_in_filter.is_some()
            || query
                .select
                .iter()
                .any(|p| p.eq_ignore_ascii_case("signInActivity"));
        let mut request = GraphRequest::new(query.api, "/users");
        if !query.select.is_empty() {
            request = request.param("$select", query.select.join(","));
        }
        if let Some(filter) = &query.sign_in_filter {
            let property = match filter.property {
                SignInActivityProperty::LastSignIn => "lastSignInDateTime",
                SignInActivityProperty::LastNonInteractiveSignIn => {
                    "lastNonInteractiveSignInDateTime"
                }
                SignInActivityProperty::LastSuccessfulSignIn => "lastSuccessfulSignInDateTime",
            };
            let clause = match filter.comparison {
                Comparison::OnOrBefore => format!("le {}", odata_date(filter.at)),
                Comparison::OnOrAfter => format!("ge {}", odata_date(filter.at)),
                Comparison::IsNull => "eq null".to_string(),
            };
            request = request.param("$filter", format!("signInActivity/{property} {clause}"));
        }
        request.top(if with_activity {
            USERS_WITH_SIGN_IN_ACTIVITY_PAGE
        } else {
            USERS_PAGE
        })
    }

    /// One user by object id with [`USER_PROPERTIES`].
    pub fn user(id: &str) -> Self {
        GraphRequest::new(ApiVersion::V1, &format!("/users/{}", path_segment(id)))
            .param("$select", USER_PROPERTIES.join(","))
    }

    /// Users by object id (`id in (...)`, at most [`IDS_PER_LOOKUP`]) with [`USER_PROPERTIES`]: several
    /// accounts in one request. An id with no user is simply absent from the answer.
    pub fn users_by_id(ids: &[String]) -> Self {
        let list: Vec<String> = ids.iter().map(|id| odata_string(id)).collect();
        GraphRequest::new(ApiVersion::V1, "/users")
            .param("$filter", format!("id in ({})", list.join(",")))
            .param("$select", USER_PROPERTIES.join(","))
            .top(USERS_WITH_SIGN_IN_ACTIVITY_PAGE)
    }

    /// The number of users, as text (Graph docs `user-list.md`, "Get only a count of users"): an advanced query,
    /// so it must be sent with `ConsistencyLevel: eventual` (`aad-advanced-queries.md`).
    pub fn user_count() -> Self {
        GraphRequest::new(ApiVersion::V1, "/users/$count")
    }

    /// Sign-ins in a window for some users; several users share one filter joined with `or`.
    pub fn sign_ins(query: &SignInQuery) -> Self {
        let mut clauses = vec![
            format!("createdDateTime ge {}", odata_date(query.window.from)),
            format!("createdDateTime le {}", odata_date(query.window.to)),
        ];
        match query.user_ids.as_slice() {
            [] => {}
            [one] => clauses.push(format!("userId eq {}", odata_string(one))),
            many => {
                let any: Vec<String> = many
                    .iter()
                    .map(|id| format!("userId eq {}", odata_string(id)))
                    .collect();
                clauses.push(format!("({})", any.join(" or ")));
            }
        }
        let api = match query.kind {
            SignInKind::Interactive => ApiVersion::V1,
            SignInKind::NonInteractive => {
                clauses.push("signInEventTypes/any(t: t eq 'nonInteractiveUser')".to_string());
                ApiVersion::Beta
            }
            SignInKind::InteractiveAndNonInteractive => {
                clauses.push(
                    "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"
                        .to_string(),
                );
                ApiVersion::Beta
            }
        };
        GraphRequest::new(api, "/auditLogs/signIns")
            .param("$filter", clauses.join(" and "))
            .top(LOGS_PAGE)
    }

    /// Directory audits in a window whose targets include one of `target_ids` (REFERENCE §2).
    pub fn directory_audits(query: &AuditQuery) -> Self {
        let mut any: Vec<String> = query
            .target_ids
            .iter()
            .map(|id| format!("targetResources/any(t:t/id eq {})", odata_string(id)))
            .collect();
        if let Some(service) = query.also_logged_by {
            any.push(format!("loggedByService eq {}", odata_string(service)));
        }
        let targets = match any.as_slice() {
            [] => String::new(),
            [one] => format!(" and {one}"),
            many => format!(" and ({})", many.join(" or ")),
        };
        let filter = format!(
            "activityDateTime ge {} and activityDateTime le {}{targets}",
            odata_date(query.window.from),
            odata_date(query.window.to),
        );
        GraphRequest::new(ApiVersion::V1, "/auditLogs/directoryAudits")
            .param("$filter", filter)
            .top(LOGS_PAGE)
    }

    /// Active role assignments with their principal (REFERENCE §3). The endpoint supports `$filter` and `$expand`
    /// only (Graph docs `rbacapplication-list-roleassignments.md`), so no `$top`.
    pub fn role_assignments() -> Self {
        GraphRequest::new(ApiVersion::V1, "/roleManagement/directory/roleAssignments")
            .param("$expand", "principal")
    }

    /// PIM eligibility schedules with their principal (needs P2, REFERENCE §3). No `$top` either (Graph docs
    /// `rbacapplication-list-roleeligibilityschedules.md`).
    pub fn role_eligibility_schedules() -> Self {
        GraphRequest::new(
            ApiVersion::V1,
            "/roleManagement/directory/roleEligibilitySchedules",
        )
        .param("$expand", "principal")
    }

    /// The directory's role definitions, with whether Entra ID counts each as privileged (Graph docs
    /// `rbacapplication-list-roledefinitions.md`, `resources/unifiedroledefinition.md` `isPrivileged`).
    pub fn role_definitions() -> Self {
        GraphRequest::new(ApiVersion::V1, "/roleManagement/directory/roleDefinitions")
            .param("$select", "id,templateId,displayName,isPrivileged")
    }

    /// PIM for Groups eligibility of one group, with the principal (Graph docs
    /// `privilegedaccessgroup-list-eligibilityschedules.md`: the list needs a `groupId` or `principalId` filter).
    pub fn group_eligibility_schedules(group_id: &str) -> Self {
        GraphRequest::new(
            ApiVersion::V1,
            "/identityGovernance/privilegedAccess/group/eligibilitySchedules",
        )
        .param("$filter", format!("groupId eq {}", odata_string(group_id)))
        .param("$expand", "principal")
    }

    /// Every member of a group, nested groups expanded (Graph docs `group-list-transitivemembers.md`).
    pub fn group_transitive_members(group_id: &str) -> Self {
        GraphRequest::new(
            ApiVersion::V1,
            &format!("/groups/{}/transitiveMembers", path_segment(group_id)),
        )
        .param(
            "$select",
            "id,displayName,userPrincipalName,mail,userType,accountEnabled",
        )
        .top(USERS_PAGE)
    }

    /// Asks for smaller pages than the endpoint's maximum (never larger). Endpoints without `$top` ignore it.
    pub fn with_page_size(mut self, size: u32) -> Self {
        if let Some(max) = self.max_page {
            let size = size.clamp(1, max);
            self.max_page = Some(size);
            for (name, value) in &mut self.params {
                if *name == "$top" {
                    *value = size.to_string();
                }
            }
        }
        self
    }

    /// The most items one page of this request can hold, when the request sets it.
    pub fn page_size(&self) -> Option<u32> {
        self.max_page
    }

    /// Path (with API version) and encoded query, to append to the Graph base URL.
    pub fn path_and_query(&self) -> String {
        let query: Vec<String> = self
            .params
            .iter()
            .map(|(name, value)| format!("{name}={}", encode(value)))
            .collect();
        if query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, query.join("&"))
        }
    }

    /// The path only, as errors show it.
    pub fn path(&self) -> &str {
        &self.path
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
