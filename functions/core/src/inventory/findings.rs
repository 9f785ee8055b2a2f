//! The open findings entrawatch holds, by the object they are about: dormant accounts, emergency-account
//! posture, credential and workload findings (the state store's findings, see `state::FindingStore`).
//!
//! Read once, page by page with [`FindingStore::list_findings_after`], into a map of at most [`MAX_FINDINGS`]
//! entries (a few short labels per object): memory is bounded by that cap, not by the tenant. Past it, the
//! rest are not shown and a note says so.

use std::collections::HashMap;

use serde_json::Value;

use crate::state::{FindingStatus, FindingStore, StateError};

/// Findings held for the join; a tenant with more open findings than this gets a note.
pub const MAX_FINDINGS: usize = 200_000;
const PAGE: usize = 1_000;

/// The finding sets (state `job` names) and how a row names them. Posture findings are the break-glass job's
/// `break_glass.posture` ones (issue 16 item 1, written beside this module): `break-glass-posture` is the set this
/// index expects them in, labelled with `evidence.check` (or `check`) from the finding's data; the posture checks
/// must keep them under that name, or this constant follow theirs.
const FINDING_SETS: [(&str, &str); 4] = [
    ("dormant", "dormant"),
    ("break-glass-posture", "posture"),
    ("workload-credential", "credential"),
    ("workload-dormant", "dormant workload"),
];

/// Object id or appId (lower case) → labels of its open findings.
#[derive(Debug, Default)]
pub struct FindingIndex {
    by_object: HashMap<String, Vec<String>>,
    held: usize,
    pub notes: Vec<String>,
}

/// What a finding is about: its subject's object id and appId (credential findings name the app registration
/// or the service principal; the inventory row is the service principal, found by appId).
fn subjects(key: &str, data: &Value) -> Vec<String> {
    let subject = &data["subject"];
    let mut out: Vec<String> = ["id", "appId"]
        .iter()
        .filter_map(|k| subject[*k].as_str())
        .map(str::to_ascii_lowercase)
        .collect();
    if out.is_empty() {
        out.push(key.to_ascii_lowercase());
    }
    out
}

/// The row's label: the set's name, with the alert type's detail when there is one
/// (`credential expiring`, `posture: ca_exclusion`).
fn label(set: &str, data: &Value) -> String {
    if let Some(check) = data["evidence"]["check"]
        .as_str()
        .or(data["check"].as_str())
    {
        return format!("{set}: {check}");
    }
    match data["alertType"].as_str() {
        Some("workload.credential_expired") => "credential expired".into(),
        Some("workload.credential_expiring") => "credential expiring".into(),
        _ => set.to_string(),
    }
}

impl FindingIndex {
    pub async fn read(store: &dyn FindingStore, tenant: &str) -> Result<FindingIndex, StateError> {
        let mut index = FindingIndex::default();
        for (job, set) in FINDING_SETS {
            let mut after: Option<String> = None;
            loop {
                let page = store
                    .list_findings_after(tenant, job, after.as_deref(), PAGE)
                    .await?;
                let last = page.last().map(|f| f.key.clone());
                for f in page.iter().filter(|f| f.status == FindingStatus::Open) {
                    if index.held >= MAX_FINDINGS {
                        index.notes.push(format!(
                            "more than {MAX_FINDINGS} open findings: those past the first {MAX_FINDINGS} are not \
                             shown (see `entrawatch run` output)"
                        ));
                        return Ok(index);
                    }
                    let label = label(set, &f.data);
                    for subject in subjects(&f.key, &f.data) {
                        let labels = index.by_object.entry(subject).or_default();
                        if !labels.contains(&label) {
                            labels.push(label.clone());
                        }
                    }
                    index.held += 1;
                }
                match last {
                    Some(key) if page.len() == PAGE => after = Some(key),
                    _ => break,
                }
            }
        }
        Ok(index)
    }

    /// Labels of the open findings about `object_id` or `app_id`.
    pub fn of(&self, object_id: &str, app_id: Option<&str>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let keys = std::iter::once(object_id).chain(app_id);
        for key in keys {
            for label in self
                .by_object
                .get(&key.to_ascii_lowercase())
                .into_iter()
                .flatten()
            {
                if !out.contains(label) {
                    out.push(label.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::sqlite::SqliteStore;
    use crate::state::Finding;
    use serde_json::json;

    fn finding(job: &str, key: &str, status: FindingStatus, data: Value) -> Finding {
        Finding {
            tenant: "t".into(),
            job: job.into(),
            key: key.into(),
            status,
            first_seen: 0,
            last_notified: None,
            resolved_at: None,
            data,
            expires_at: None,
        }
    }

    #[tokio::test]
    async fn open_findings_of_every_set_are_found_by_object_id_or_app_id() {
        let path = std::env::temp_dir().join(format!(
            "entrawatch-findings-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let store = SqliteStore::open(&path).expect("sqlite");
        let user = "0a000000-0000-4000-8000-000000000001";
        for f in [
            finding(
                "dormant",
                user,
                FindingStatus::Open,
                json!({"subject": {"id": user}}),
            ),
            // The posture checks' shape: key `<id>#<check>#<policy>`, the alert's subject and evidence.
            finding(
                "break-glass-posture",
                &format!("{user}#ca_exclusion#p1"),
                FindingStatus::Open,
                json!({"subject": {"id": user}, "evidence": {"check": "ca_exclusion"}}),
            ),
            // A credential of the app registration: found from its service principal by appId.
            finding(
                "workload-credential",
                "app-object#key-1",
                FindingStatus::Open,
                json!({"subject": {"id": "app-object", "appId": "APP-1"},
                       "alertType": "workload.credential_expiring"}),
            ),
            finding(
                "dormant",
                "gone",
                FindingStatus::Resolved,
                json!({"subject": {"id": "gone"}}),
            ),
        ] {
            store.put_finding(&f).await.expect("put");
        }
        let index = FindingIndex::read(&store, "t").await.expect("read");
        assert_eq!(
            index.of(user, None),
            vec!["dormant", "posture: ca_exclusion"]
        );
        assert_eq!(
            index.of("sp-object", Some("app-1")),
            vec!["credential expiring"]
        );
        assert!(
            index.of("gone", None).is_empty(),
            "resolved findings are not shown"
        );
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
