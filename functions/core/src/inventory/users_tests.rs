//! The users-registration join over an in-memory Graph port: rows in different orders meet inside the window,
//! a full window lets rows go on without their partner (and says so), a refused report is a note.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::graph::model::{
    DirectoryAudit, DirectoryObject, GroupEligibilitySchedule, RoleAssignment, RoleDefinition,
    RoleEligibilitySchedule, SignIn,
};
use crate::graph::{AuditQuery, Page, SignInQuery, TenantLabel};
use crate::progress::Progress as ProgressPort;

/// Users and registration rows served `per_page` at a time, links being the page index.
struct Pages {
    users: Vec<Value>,
    registrations: Vec<Value>,
    per_page: usize,
    refuse_registrations: bool,
    calls: Mutex<Vec<&'static str>>,
}

fn page_at<T: serde::de::DeserializeOwned>(
    rows: &[Value],
    link: Option<&str>,
    per: usize,
) -> Page<T> {
    let at: usize = link.and_then(|l| l.parse().ok()).unwrap_or(0);
    let end = (at + per).min(rows.len());
    let next = (end < rows.len()).then(|| end.to_string());
    serde_json::from_value(json!({"value": rows[at..end], "@odata.nextLink": next})).expect("page")
}

fn empty<T>() -> Result<Page<T>, GraphError> {
    Ok(Page::of(Vec::new(), None))
}

#[async_trait]
impl GraphPort for Pages {
    async fn list_users(
        &self,
        _: &UserQuery,
        link: Option<&str>,
    ) -> Result<Page<User>, GraphError> {
        self.calls.lock().expect("calls").push("users");
        Ok(page_at(&self.users, link, self.per_page))
    }
    async fn list_user_registration_details(
        &self,
        link: Option<&str>,
    ) -> Result<Page<UserRegistrationDetails>, GraphError> {
        self.calls.lock().expect("calls").push("registrations");
        if self.refuse_registrations {
            return Err(GraphError::PermissionMissing {
                tenant: std::sync::Arc::new(TenantLabel {
                    name: "contoso".into(),
                    id: "t".into(),
                }),
                permission: "AuditLog.Read.All".into(),
                code: "Authentication_MSGraphPermissionMissing".into(),
                path: "/v1.0/reports/authenticationMethods/userRegistrationDetails".into(),
            });
        }
        Ok(page_at(&self.registrations, link, self.per_page))
    }
    async fn get_user(&self, _: &str) -> Result<Option<User>, GraphError> {
        Ok(None)
    }
    async fn list_sign_ins(
        &self,
        _: &SignInQuery,
        _: Option<&str>,
    ) -> Result<Page<SignIn>, GraphError> {
        empty()
    }
    async fn list_directory_audits(
        &self,
        _: &AuditQuery,
        _: Option<&str>,
    ) -> Result<Page<DirectoryAudit>, GraphError> {
        empty()
    }
    async fn list_role_assignments(
        &self,
        _: Option<&str>,
    ) -> Result<Page<RoleAssignment>, GraphError> {
        empty()
    }
    async fn list_role_eligibility_schedules(
        &self,
        _: Option<&str>,
    ) -> Result<Page<RoleEligibilitySchedule>, GraphError> {
        empty()
    }
    async fn list_group_members(
        &self,
        _: &str,
        _: Option<&str>,
    ) -> Result<Page<DirectoryObject>, GraphError> {
        empty()
    }
    async fn list_role_definitions(
        &self,
        _: Option<&str>,
    ) -> Result<Page<RoleDefinition>, GraphError> {
        empty()
    }
    async fn list_group_eligibility_schedules(
        &self,
        _: &str,
        _: Option<&str>,
    ) -> Result<Page<GroupEligibilitySchedule>, GraphError> {
        empty()
    }
}

fn user(id: &str, enabled: bool) -> Value {
    json!({"id": id, "userPrincipalName": format!("{id}@contoso.example"), "userType": "Member",
           "accountEnabled": enabled,
           "signInActivity": {"lastSuccessfulSignInDateTime": "2026-11-01T00:00:00Z"}})
}

fn registration(id: &str) -> Value {
    json!({"id": id, "isMfaRegistered": true, "methodsRegistered": ["fido2"]})
}

async fn rows_of(graph: &Pages, window: usize) -> (Vec<IdentityRow>, Vec<String>) {
    let holders = PrivilegedHolders::default();
    let findings = FindingIndex::default();
    let ctx = UserContext {
        graph,
        holders: &holders,
        findings: &findings,
        now: Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
        window,
    };
    let none = ProgressPort::none();
    let task = none.start("inventory", "users", Extent::Unknown);
    let progress = Progress {
        task: &task,
        total: None,
    };
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut emit = |row: IdentityRow| -> std::io::Result<()> {
        rows.push(row);
        Ok(())
    };
    stream(&ctx, &mut emit, &progress, &mut notes)
        .await
        .expect("stream");
    (rows, notes)
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("u{i:02}")).collect()
}

#[tokio::test]
async fn registrations_in_another_order_meet_their_users_inside_the_window() {
    let ids = ids(10);
    let graph = Pages {
        users: ids.iter().map(|id| user(id, id != "u03")).collect(),
        // Reverse order, and none for the disabled u03 (the report does not cover disabled users).
        registrations: ids
            .iter()
            .rev()
            .filter(|id| *id != "u03")
            .map(|id| registration(id))
            .collect(),
        per_page: 3,
        refuse_registrations: false,
        calls: Mutex::default(),
    };
    let (rows, notes) = rows_of(&graph, 100).await;
    assert_eq!(rows.len(), 10, "every user once");
    for row in &rows {
        let expected = (row.id != "u03").then_some(true);
        assert_eq!(row.mfa_registered, expected, "{}", row.id);
    }
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(rows[0].days_inactive, Some(30));
}

#[tokio::test]
async fn a_full_window_lets_rows_go_on_without_their_partner_and_says_how_many() {
    let ids = ids(12);
    let graph = Pages {
        users: ids.iter().map(|id| user(id, true)).collect(),
        registrations: ids.iter().rev().map(|id| registration(id)).collect(),
        per_page: 2,
        refuse_registrations: false,
        calls: Mutex::default(),
    };
    let (rows, notes) = rows_of(&graph, 2).await;
    assert_eq!(rows.len(), 12, "every user once, matched or not");
    let unmatched = rows.iter().filter(|r| r.mfa_registered.is_none()).count();
    assert!(
        unmatched > 0,
        "a window of 2 cannot join reversed listings of 12"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with(&format!("{unmatched} enabled users written without"))),
        "{notes:?}"
    );
}

#[tokio::test]
async fn a_refused_registration_report_is_a_note_and_users_still_stream() {
    let graph = Pages {
        users: ids(5).iter().map(|id| user(id, true)).collect(),
        registrations: Vec::new(),
        per_page: 2,
        refuse_registrations: true,
        calls: Mutex::default(),
    };
    let (rows, notes) = rows_of(&graph, 100).await;
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r.mfa_registered.is_none()));
    assert_eq!(
        notes,
        vec!["MFA registration empty: the registration report needs AuditLog.Read.All".to_string()]
    );
    let calls = graph.calls.lock().expect("calls");
    assert_eq!(
        calls.iter().filter(|c| **c == "registrations").count(),
        1,
        "asked once"
    );
}
