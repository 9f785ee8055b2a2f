//! Shared set-up for the workloads job tests: scenario pieces (app registrations, service principals, Microsoft
//! Graph's own service principal and an application permission on it) and one run of the job or the watch.
#![allow(dead_code)]

use std::sync::Arc;

use entrawatch_core::config::WorkloadsConfig;
use entrawatch_core::graph::GraphPort;
use entrawatch_core::jobs::{workloads, JobError, JobReport};
use entrawatch_core::state::Stores;
use entrawatch_emulator::Emulator;

use crate::break_glass_support::{client_for, context, test_options, SECRET};

/// Microsoft Graph's service principal in the tenant (its appId is fixed, Graph docs `permissions-reference`).
pub const GRAPH_SP: &str = "5e000000-0000-4000-8000-000000000001";
/// `RoleManagement.ReadWrite.Directory` on Microsoft Graph (REFERENCE.md §11, `permissions-ids.md`).
pub const ROLE_MANAGEMENT_READ_WRITE: &str = "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8";
/// `User.Read.All` (Graph docs `permissions-reference`): an application permission not on the privileged list.
pub const USER_READ_ALL: &str = "df021288-bdef-4463-88db-98f22de89214";

pub fn graph_service_principal() -> String {
    format!(
        r#"
[[tenants.service_principals]]
id = "{GRAPH_SP}"
appId = "00000003-0000-0000-c000-000000000000"
displayName = "Microsoft Graph"
servicePrincipalType = "Application"
appOwnerOrganizationId = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
accountEnabled = true
"#
    )
}

/// An app registration `app_object` of `app_id` with one credential (`password` or `certificate`) ending at
/// `end` (a relative time such as "+20d"), and its service principal `sp`.
pub fn app_with_credential(
    name: &str,
    app_object: &str,
    app_id: &str,
    sp: &str,
    key_id: &str,
    kind: &str,
    end: &str,
) -> String {
    let credential = format!(
        "{{ keyId = \"{key_id}\", displayName = \"{name} {kind}\", startDateTime = \"-300d\", endDateTime = \"{end}\"{} }}",
        if kind == "password" { ", hint = \"abc\"" } else { ", type = \"AsymmetricX509Cert\", usage = \"Verify\"" }
    );
    let list = if kind == "password" {
        "passwordCredentials"
    } else {
        "keyCredentials"
    };
    let other = if kind == "password" {
        "keyCredentials"
    } else {
        "passwordCredentials"
    };
    format!(
        r#"
[[tenants.applications]]
id = "{app_object}"
appId = "{app_id}"
displayName = "{name}"
createdDateTime = "-400d"
{list} = [{credential}]
{other} = []

[[tenants.service_principals]]
id = "{sp}"
appId = "{app_id}"
displayName = "{name}"
servicePrincipalType = "Application"
appOwnerOrganizationId = "11111111-2222-3333-4444-555555555555"
accountEnabled = true
passwordCredentials = []
keyCredentials = []
"#
    )
}

/// `permission` (an app role id on Microsoft Graph) granted to service principal `sp`.
pub fn grant(id: &str, sp: &str, permission: &str) -> String {
    format!(
        r#"
[[tenants.app_role_assignments]]
id = "{id}"
appRoleId = "{permission}"
principalId = "{sp}"
principalType = "ServicePrincipal"
principalDisplayName = "granted"
resourceId = "{GRAPH_SP}"
resourceDisplayName = "Microsoft Graph"
createdDateTime = "-30d"
"#
    )
}

pub fn config(extra: &str) -> WorkloadsConfig {
    toml::from_str(extra).unwrap_or_else(|e| panic!("workloads config: {e}"))
}

/// One sweep (and audit watch) at the emulator's current time.
pub async fn sweep(
    emu: &Emulator,
    stores: &Stores,
    config: &WorkloadsConfig,
) -> Result<JobReport, JobError> {
    let graph: Arc<dyn GraphPort> = Arc::new(client_for(emu, SECRET, test_options()));
    workloads::run(&context(stores, graph, emu.clock().now()), config).await
}

/// The credential audit watch alone, as the frequent schedule runs it.
pub async fn watch(emu: &Emulator, stores: &Stores) -> Result<(usize, usize), JobError> {
    let graph: Arc<dyn GraphPort> = Arc::new(client_for(emu, SECRET, test_options()));
    let (examined, alerts, _) =
        workloads::added::watch(&context(stores, graph, emu.clock().now())).await?;
    Ok((examined, alerts))
}
