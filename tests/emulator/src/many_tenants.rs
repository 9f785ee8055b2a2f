//! A generated many-tenant scenario: an MSP's one multi-tenant app registration consented in N customer
//! tenants (issue 13), each with two emergency ("break-glass") accounts that signed in recently and ordinary
//! members for dormant scans. Every id is a pure function of the tenant and object index, and the result
//! says which ids it made, so a test can write the entrawatch configuration and its expected alerts.
//!
//! Objects are explicit scenario users and sign-ins (about 1 KB each in memory); for very large tenants use
//! `[tenants.generator]` (flat memory) instead.

use crate::scenario::{AppSpec, Scenario, TenantSpec, DEFAULT_PERMISSIONS};
use serde_json::{json, Value};

/// How many days ago a dormant member last signed in: dormant under any threshold up to a year.
pub const DORMANT_DAYS: u32 = 400;

/// What [`many_tenants`] generates. `..Default::default()` fills what a test does not care about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManyTenantsSpec {
    /// Customer tenants, all consenting to the one app (a `u16` because the index is part of every id).
    pub tenants: u16,
    /// Successful interactive sign-ins per break-glass account (two accounts per tenant), one minute apart,
    /// the newest two minutes before the start; each is one `break_glass.sign_in` alert.
    pub sign_ins_per_break_glass: u32,
    /// Ordinary enabled members per tenant, all with `signInActivity`.
    pub users: u32,
    /// How many of `users` last signed in [`DORMANT_DAYS`] ago; the others signed in a day ago.
    pub dormant_users: u32,
    pub client_id: String,
    pub client_secret: String,
}

impl Default for ManyTenantsSpec {
    fn default() -> Self {
        ManyTenantsSpec {
            tenants: 3,
            sign_ins_per_break_glass: 1,
            users: 5,
            dormant_users: 1,
            client_id: "aaaaaaaa-bbbb-cccc-dddd-000000000013".into(),
            client_secret: "many-tenants-secret-not-real".into(),
        }
    }
}

/// The generated scenario and what a test needs to configure entrawatch for it.
#[derive(Clone, Debug)]
pub struct ManyTenants {
    /// Default `[throttle]` (Microsoft's published budgets) and a running clock; change before starting.
    pub scenario: Scenario,
    /// The one app registration every tenant accepts.
    pub client_id: String,
    pub client_secret: String,
    pub tenants: Vec<GeneratedTenant>,
}

/// One generated customer tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedTenant {
    pub id: String,
    pub name: String,
    pub domain: String,
    /// Object ids of the two emergency accounts (`[tenants.break_glass] accounts`).
    pub break_glass: [String; 2],
    /// Ids of the emergency accounts' sign-ins: the tenant's expected `break_glass.sign_in` alerts.
    pub break_glass_sign_ins: Vec<String>,
    /// Object ids of the ordinary members, dormant ones first.
    pub users: Vec<String>,
    /// The dormant members among `users`.
    pub dormant_users: Vec<String>,
}

/// Builds the scenario: tenant `k` (from 0) is `7e000000-0000-4000-8000-{k:012x}`, `tenant{k:04}`.
pub fn many_tenants(spec: &ManyTenantsSpec) -> ManyTenants {
    let app = AppSpec {
        client_id: spec.client_id.clone(),
        display_name: Some("entrawatch (multi-tenant)".into()),
        secret: Some(spec.client_secret.clone()),
        certificate_pem: None,
        federated: Vec::new(),
        permissions: DEFAULT_PERMISSIONS.iter().map(|p| p.to_string()).collect(),
    };
    let (specs, tenants) = (0..spec.tenants)
        .map(|k| tenant(spec, k, &app))
        .unzip::<_, _, Vec<_>, Vec<_>>();
    ManyTenants {
        scenario: Scenario {
            tenants: specs,
            ..Scenario::default()
        },
        client_id: spec.client_id.clone(),
        client_secret: spec.client_secret.clone(),
        tenants,
    }
}

fn tenant(spec: &ManyTenantsSpec, k: u16, app: &AppSpec) -> (TenantSpec, GeneratedTenant) {
    let name = format!("tenant{k:04}");
    let domain = format!("{name}.onmicrosoft.com");
    let mut users = Vec::new();
    let mut sign_ins = Vec::new();
    let mut sign_in_ids = Vec::new();
    let break_glass = [1u32, 2].map(|a| format!("0b000000-{k:04x}-4000-8000-{a:012x}"));
    for (a, bg) in (1u32..).zip(&break_glass) {
        let upn = format!("breakglass{a}@{domain}");
        // Newest first: account 1's sign-ins at -2, -4, ... minutes, account 2's at -3, -5, ...
        let minutes_ago = |j: u32| 2 * j + a + 1;
        for j in 0..spec.sign_ins_per_break_glass {
            let id = format!("51000000-{k:04x}-4{a:03x}-8000-{j:012x}");
            sign_ins.push(json!({
                "id": id,
                "createdDateTime": format!("-{}m", minutes_ago(j)),
                "event_type": "interactiveUser",
                "userId": bg,
                "userPrincipalName": upn,
                "userDisplayName": format!("Break Glass {a}"),
                "status": {"errorCode": 0},
            }));
            sign_in_ids.push(id);
        }
        let last = if spec.sign_ins_per_break_glass > 0 {
            format!("-{}m", minutes_ago(0))
        } else {
            "-30d".to_string()
        };
        users.push(member(bg, &upn, &format!("Break Glass {a}"), &last));
    }
    let mut member_ids = Vec::new();
    for j in 0..spec.users {
        let id = format!("0a000000-{k:04x}-4000-8000-{j:012x}");
        let last = if j < spec.dormant_users {
            format!("-{DORMANT_DAYS}d")
        } else {
            "-1d".to_string()
        };
        let upn = format!("user{j:05}@{domain}");
        users.push(member(&id, &upn, &format!("User {j}"), &last));
        member_ids.push(id);
    }
    let id = format!("7e000000-0000-4000-8000-{k:012x}");
    let dormant = member_ids
        .iter()
        .take(spec.dormant_users as usize)
        .cloned()
        .collect();
    let generated = GeneratedTenant {
        id: id.clone(),
        name: name.clone(),
        domain: domain.clone(),
        break_glass,
        break_glass_sign_ins: sign_in_ids,
        users: member_ids,
        dormant_users: dormant,
    };
    let spec = TenantSpec {
        id,
        name,
        domain,
        premium: true,
        p2: true,
        signing_key_pem: None,
        apps: vec![app.clone()],
        users,
        sign_ins,
        audits: Vec::new(),
        groups: Vec::new(),
        service_principals: Vec::new(),
        role_assignments: Vec::new(),
        role_eligibility_schedules: Vec::new(),
        role_definitions: Vec::new(),
        group_eligibility_schedules: Vec::new(),
        generator: None,
        applications: Vec::new(),
        app_role_assignments: Vec::new(),
        app_credential_sign_in_activities: Vec::new(),
        service_principal_sign_in_activities: Vec::new(),
        workload_generator: None,
        conditional_access_policies: Vec::new(),
        // Emergency accounts kept as Microsoft advises (a passkey, permanent Global Administrator): the posture
        // checks read them and alert nothing.
        authentication_methods: generated
            .break_glass
            .iter()
            .map(|bg| {
                json!({"userId": bg, "@odata.type": "#microsoft.graph.fido2AuthenticationMethod",
                    "id": format!("fido-{bg}"), "displayName": "Security key"})
            })
            .collect(),
        role_assignment_schedule_instances: generated
            .break_glass
            .iter()
            .map(|bg| {
                json!({"id": format!("ga-{bg}"), "principalId": bg,
                    "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
                    "directoryScopeId": "/", "assignmentType": "Assigned", "memberType": "Direct"})
            })
            .collect(),
    };
    (spec, generated)
}

/// An enabled member created long ago whose every sign-in kind last happened at `last` (relative time).
fn member(id: &str, upn: &str, display_name: &str, last: &str) -> Value {
    json!({
        "id": id,
        "userPrincipalName": upn,
        "displayName": display_name,
        "mail": upn,
        "userType": "Member",
        "accountEnabled": true,
        "createdDateTime": "-1000d",
        "assignedLicenses": [],
        "signInActivity": {
            "lastSignInDateTime": last,
            "lastNonInteractiveSignInDateTime": last,
            "lastSuccessfulSignInDateTime": last,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tenant_has_the_one_app_and_its_own_ids() {
        let m = many_tenants(&ManyTenantsSpec {
            tenants: 4,
            sign_ins_per_break_glass: 3,
            users: 7,
            dormant_users: 2,
            ..Default::default()
        });
        assert_eq!(m.scenario.tenants.len(), 4);
        for (spec, t) in m.scenario.tenants.iter().zip(&m.tenants) {
            assert_eq!(spec.id, t.id);
            assert_eq!(spec.apps[0].client_id, m.client_id);
            assert_eq!(spec.apps[0].secret.as_deref(), Some(&*m.client_secret));
            assert_eq!(t.break_glass_sign_ins.len(), 6);
            assert_eq!(spec.users.len(), 2 + 7);
            assert_eq!(t.dormant_users, t.users[..2].to_vec());
        }
        let mut ids: Vec<&String> = m.tenants.iter().flat_map(|t| &t.users).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4 * 7, "object ids are unique across tenants");
    }
}
