//! An in-memory Graph port and an in-memory SQLite store for the detection tests in `tests.rs`.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};

use super::super::JobContext;
use crate::alert::{Route, Severity, TenantRef};
use crate::config::BreakGlassConfig;
use crate::graph::model::{
    DirectoryAudit, DirectoryObject, GroupEligibilitySchedule, RoleAssignment, RoleDefinition,
    RoleEligibilitySchedule, SignIn, User,
};
use crate::graph::{
    AuditQuery, GraphError, GraphPort, Page, SignInKind, SignInQuery, TenantLabel, UserQuery,
};
use crate::outbox::Outbox;
use crate::progress::Progress;
use crate::state::sqlite::SqliteStore;
use crate::state::{OutboxStore, Stores};

pub(super) const BG1: &str = "0b000000-0000-4000-8000-0000000000b1";
pub(super) const BG2: &str = "0b000000-0000-4000-8000-0000000000b2";
pub(super) const OTHER: &str = "0a000000-0000-4000-8000-00000000000b";

pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap()
}

/// A Graph port over fixed records. `ignore_user_filter` answers every sign-in (a Graph that
/// ignored the filter); `refuse_or` answers 400 to a filter naming several accounts;
/// `refuse_combined` answers 400 to both sign-in kinds in one filter. Beta answers carry each
/// row's `signInEventTypes`, as Graph's do.
#[derive(Default)]
pub(super) struct FakeGraph {
    pub sign_ins: Vec<(SignInKind, Value)>,
    pub audits: Vec<Value>,
    pub users: Vec<Value>,
    pub ignore_user_filter: bool,
    pub refuse_or: bool,
    pub refuse_combined: bool,
    pub calls: Mutex<Vec<String>>,
}

/// A page of `rows` as Graph's answer would parse: a row that does not parse is set aside as malformed.
fn page_of<T: serde::de::DeserializeOwned>(rows: Vec<Value>) -> Page<T> {
    serde_json::from_value(json!({ "value": rows })).expect("a page body")
}

fn label() -> Arc<TenantLabel> {
    Arc::new(TenantLabel {
        name: "contoso".into(),
        id: "t1".into(),
    })
}

fn refused(path: &str) -> GraphError {
    GraphError::Api {
        tenant: label(),
        status: 400,
        code: "BadRequest".into(),
        message: "Invalid filter clause".into(),
        path: path.into(),
    }
}

fn parse<T: serde::de::DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap()
}

#[async_trait]
impl GraphPort for FakeGraph {
    async fn list_users(&self, _: &UserQuery, _: Option<&str>) -> Result<Page<User>, GraphError> {
        unimplemented!("the break-glass job does not list users")
    }
    async fn get_user(&self, id: &str) -> Result<Option<User>, GraphError> {
        self.calls.lock().unwrap().push(format!("user {id}"));
        Ok(self
            .users
            .iter()
            .find(|u| u["id"].as_str().is_some_and(|u| u.eq_ignore_ascii_case(id)))
            .map(parse))
    }
    async fn list_sign_ins(
        &self,
        q: &SignInQuery,
        _: Option<&str>,
    ) -> Result<Page<SignIn>, GraphError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("sign-ins {:?} {}", q.kind, q.user_ids.join(",")));
        let path = match q.kind {
            SignInKind::Interactive => "/v1.0/auditLogs/signIns",
            _ => "/beta/auditLogs/signIns",
        };
        if (self.refuse_or && q.user_ids.len() > 1)
            || (self.refuse_combined && q.kind == SignInKind::InteractiveAndNonInteractive)
        {
            return Err(refused(path));
        }
        let items = self
            .sign_ins
            .iter()
            .filter(|(k, s)| {
                (*k == q.kind || q.kind == SignInKind::InteractiveAndNonInteractive)
                    && (self.ignore_user_filter
                        || q.user_ids.iter().any(|u| s["userId"] == json!(u)))
            })
            .map(|(k, s)| {
                let mut row = s.clone();
                if q.kind != SignInKind::Interactive && row.get("signInEventTypes").is_none() {
                    let t = match k {
                        SignInKind::NonInteractive => "nonInteractiveUser",
                        _ => "interactiveUser",
                    };
                    row["signInEventTypes"] = json!([t]);
                }
                row
            })
            .collect();
        Ok(page_of(items))
    }
    async fn list_directory_audits(
        &self,
        q: &AuditQuery,
        _: Option<&str>,
    ) -> Result<Page<DirectoryAudit>, GraphError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("audits {}", q.target_ids.join(",")));
        if self.refuse_or && q.target_ids.len() > 1 {
            return Err(refused("/v1.0/auditLogs/directoryAudits"));
        }
        let items = self
            .audits
            .iter()
            .filter(|a| {
                q.target_ids
                    .iter()
                    .any(|t| a["targetResources"][0]["id"] == json!(t))
            })
            .cloned()
            .collect();
        Ok(page_of(items))
    }
    async fn list_role_assignments(
        &self,
        _: Option<&str>,
    ) -> Result<Page<RoleAssignment>, GraphError> {
        unimplemented!()
    }
    async fn list_role_eligibility_schedules(
        &self,
        _: Option<&str>,
    ) -> Result<Page<RoleEligibilitySchedule>, GraphError> {
        unimplemented!()
    }
    async fn list_group_members(
        &self,
        _: &str,
        _: Option<&str>,
    ) -> Result<Page<DirectoryObject>, GraphError> {
        unimplemented!()
    }
    async fn list_role_definitions(
        &self,
        _: Option<&str>,
    ) -> Result<Page<RoleDefinition>, GraphError> {
        unimplemented!("the break-glass job reads no roles")
    }
    async fn list_group_eligibility_schedules(
        &self,
        _: &str,
        _: Option<&str>,
    ) -> Result<Page<GroupEligibilitySchedule>, GraphError> {
        unimplemented!("the break-glass job reads no roles")
    }
}

pub(super) fn sign_in(id: &str, user: &str, minutes_ago: i64, error_code: Value) -> Value {
    json!({"id": id, "userId": user, "userPrincipalName": format!("{user}@contoso"),
           "createdDateTime": (now() - Duration::minutes(minutes_ago)).to_rfc3339(),
           "status": error_code})
}

/// A drill two days ago: recent enough for no reminder, before the first run's window (so reconciliation has
/// nothing to alert from it).
pub(super) fn drilled() -> DateTime<Utc> {
    now() - Duration::days(2)
}

pub(super) fn user(id: &str, last_success: Option<DateTime<Utc>>) -> Value {
    json!({"id": id, "userPrincipalName": format!("{id}@contoso"),
           "createdDateTime": "2020-01-01T00:00:00Z",
           "signInActivity": {"lastSuccessfulSignInDateTime": last_success.map(|t| t.to_rfc3339())}})
}

pub(super) fn config(accounts: &[&str]) -> BreakGlassConfig {
    // The posture checks have their own tests (`posture`, `tests/break_glass_posture.rs`).
    toml::from_str(&format!(
        "accounts = {}\nposture = false\n",
        serde_json::to_string(accounts).unwrap()
    ))
    .unwrap()
}

pub(super) struct Harness {
    pub store: SqliteStore,
    pub graph: Arc<FakeGraph>,
}

impl Harness {
    pub(super) fn new(graph: FakeGraph) -> Harness {
        Harness {
            store: SqliteStore::open(":memory:").unwrap(),
            graph: Arc::new(graph),
        }
    }

    pub(super) fn ctx(&self, at: DateTime<Utc>) -> JobContext {
        let shared = Arc::new(self.store.clone());
        let route = Route {
            sink: "all".into(),
            min_severity: Severity::Info,
            types: vec![],
            tenants: vec![],
        };
        JobContext {
            tenant: TenantRef {
                id: "t1".into(),
                name: "contoso".into(),
            },
            graph: self.graph.clone(),
            stores: Stores::new(self.store.clone()),
            outbox: Outbox::new(shared, vec![route]),
            now: at,
            progress: Progress::none(),
        }
    }

    /// (type, severity, event title) of every recorded alert, oldest record first.
    pub(super) async fn alerts(&self) -> Vec<crate::alert::Alert> {
        let due = self.store.due(i64::MAX / 2, 10_000).await.unwrap();
        due.iter()
            .map(|d| crate::alert::Alert::from_json(&d.alert).unwrap())
            .collect()
    }

    pub(super) fn calls(&self) -> Vec<String> {
        std::mem::take(&mut *self.graph.calls.lock().unwrap())
    }
}
