//! The tenant's workload identities as the job needs them: every app registration and service principal with
//! its credentials, read page by page (REFERENCE.md §11). Only names and dates are kept, never credential material.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::graph::model::{Application, KeyCredential, PasswordCredential, ServicePrincipal};
use crate::graph::{GraphError, GraphPort};

/// Microsoft's own tenants: a service principal whose app they own is first party (REFERENCE.md §11: "Microsoft
/// Services" and "Microsoft"; unconfirmed as a complete rule).
pub const FIRST_PARTY_OWNERS: [&str; 2] = [
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
    "72f988bf-86f1-41af-91ab-2d7cd011db47",
];

/// Microsoft Graph's appId: its service principal is the resource of every Graph application permission.
pub const MICROSOFT_GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// Which object holds a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    Application,
    ServicePrincipal,
}

impl OwnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Application => "application",
            OwnerKind::ServicePrincipal => "servicePrincipal",
        }
    }
}

/// SPEC.md `evidence.credentialType` of an expiring credential (federated credentials do not expire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialType {
    Password,
    Certificate,
}

impl CredentialType {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialType::Password => "password",
            CredentialType::Certificate => "certificate",
        }
    }
}

/// A secret or certificate, named but never held.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub key_id: String,
    pub kind: CredentialType,
    pub display_name: Option<String>,
    /// A secret's first three characters, as the portal shows them.
    pub hint: Option<String>,
    pub end: Option<DateTime<Utc>>,
}

impl Credential {
    fn from_password(p: &PasswordCredential) -> Credential {
        Credential {
            key_id: p.key_id.to_ascii_lowercase(),
            kind: CredentialType::Password,
            display_name: p.display_name.clone(),
            hint: p.hint.clone(),
            end: p.end_date_time,
        }
    }

    fn from_key(k: &KeyCredential) -> Credential {
        Credential {
            key_id: k.key_id.to_ascii_lowercase(),
            kind: CredentialType::Certificate,
            display_name: k.display_name.clone(),
            hint: None,
            end: k.end_date_time,
        }
    }
}

/// An app registration or a service principal.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub id: String,
    pub kind: OwnerKind,
    pub app_id: String,
    pub display_name: Option<String>,
    pub first_party: bool,
    pub managed_identity: bool,
    pub enabled: bool,
    pub created: Option<DateTime<Utc>>,
    pub credentials: Vec<Credential>,
}

impl Workload {
    pub fn from_application(a: &Application) -> Workload {
        Workload {
            id: a.id.to_ascii_lowercase(),
            kind: OwnerKind::Application,
            app_id: a.app_id.to_ascii_lowercase(),
            display_name: a.display_name.clone(),
            first_party: false,
            managed_identity: false,
            enabled: true,
            created: a.created_date_time,
            credentials: credentials(&a.password_credentials, &a.key_credentials),
        }
    }

    pub fn from_service_principal(s: &ServicePrincipal) -> Workload {
        let owner = s.app_owner_organization_id.as_deref().unwrap_or_default();
        Workload {
            id: s.id.to_ascii_lowercase(),
            kind: OwnerKind::ServicePrincipal,
            app_id: s.app_id.to_ascii_lowercase(),
            display_name: s.display_name.clone(),
            first_party: FIRST_PARTY_OWNERS
                .iter()
                .any(|o| o.eq_ignore_ascii_case(owner)),
            managed_identity: s
                .service_principal_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("ManagedIdentity")),
            enabled: s.account_enabled != Some(false),
            created: None,
            credentials: credentials(&s.password_credentials, &s.key_credentials),
        }
    }

    /// SPEC.md: `subject` of a `workload.*` alert.
    pub fn subject(&self) -> Value {
        json!({"id": self.id, "appId": self.app_id, "displayName": self.display_name,
               "objectType": self.kind.as_str()})
    }

    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.app_id)
    }
}

fn credentials(passwords: &[PasswordCredential], keys: &[KeyCredential]) -> Vec<Credential> {
    passwords
        .iter()
        .map(Credential::from_password)
        .chain(keys.iter().map(Credential::from_key))
        .collect()
}

/// Every workload of the tenant, app registrations first, and what could not be read.
#[derive(Debug, Default)]
pub struct Inventory {
    pub workloads: Vec<Workload>,
    /// Records Graph sent that did not parse: named in the run line, never resolved as "removed".
    pub unreadable: Vec<String>,
    pub pages: u64,
}

impl Inventory {
    pub async fn read(graph: &dyn GraphPort) -> Result<Inventory, GraphError> {
        let mut inventory = Inventory::default();
        let mut link: Option<String> = None;
        loop {
            let page = graph.list_applications(link.as_deref()).await?;
            inventory.pages += 1;
            inventory.note_unreadable(&page.malformed);
            inventory
                .workloads
                .extend(page.items.iter().map(Workload::from_application));
            match page.next_link {
                Some(next) => link = Some(next),
                None => break,
            }
        }
        let mut link: Option<String> = None;
        loop {
            let page = graph.list_service_principals(link.as_deref()).await?;
            inventory.pages += 1;
            inventory.note_unreadable(&page.malformed);
            inventory
                .workloads
                .extend(page.items.iter().map(Workload::from_service_principal));
            match page.next_link {
                Some(next) => link = Some(next),
                None => break,
            }
        }
        Ok(inventory)
    }

    fn note_unreadable(&mut self, malformed: &[crate::graph::Malformed]) {
        for m in malformed {
            self.unreadable
                .push(m.id.clone().unwrap_or_else(|| "(no id)".into()));
        }
    }

    pub fn service_principals(&self) -> impl Iterator<Item = &Workload> {
        self.workloads
            .iter()
            .filter(|w| w.kind == OwnerKind::ServicePrincipal)
    }

    /// appId → the tenant's app registration of it (created date, for the never-signed-in grace).
    pub fn applications_by_app_id(&self) -> HashMap<&str, &Workload> {
        self.workloads
            .iter()
            .filter(|w| w.kind == OwnerKind::Application)
            .map(|w| (w.app_id.as_str(), w))
            .collect()
    }
}
