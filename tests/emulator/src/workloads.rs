//! A tenant's workload identities: app registrations, service principals (the tenant's `service_principals`),
//! application permission grants and the two beta sign-in activity reports, from the scenario and from a
//! deterministic generator for large tenants (`[tenants.workload_generator]`). Generated item `i` is a pure
//! function of `(seed, i, start)`: nothing is stored, and its index is in its id.
//!
//! | generated | id | what |
//! |---|---|---|
//! | application `j` | `{p}-0001-4000-8000-{j:012x}` | appId `{p}-0002-4000-8000-{j:012x}`, created 100-1,100 days ago; one secret (keyId `{p}-0003-...-{j}`) and, for 30%, a certificate (`{p}-0004-...`); each credential 5% expired (1-61 days ago), 5% expiring within 30 days, else valid 60-760 days |
//! | service principal `k` | `{p}-0006-4000-8000-{k:012x}` | for `k` < applications, the app `k`'s; beyond, a foreign app (appId `{p}-0005-...`): 30% Microsoft first party, then 20% managed identities |
//! | its sign-in activity | `{p}-0007-...-{k}` | 20% dormant (half with no row, half 100-400 days ago), else within 30 days |
//! | credential activity | `{p}-0008-...-{j}` | for half of the expired secrets: used within the last day (after expiry) |
//!
//! `{p}` is 8 hex digits from the seed.

use crate::generator::mix;
use crate::scenario::WorkloadGeneratorSpec;
use crate::timefmt;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

const MICROSOFT_SERVICES: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
pub const DORMANT_SHARE: f64 = 0.2;

#[derive(Clone, Debug)]
pub struct WorkloadGenerator {
    spec: WorkloadGeneratorSpec,
    start: DateTime<Utc>,
    tenant: String,
    prefix: u32,
}

impl WorkloadGenerator {
    pub fn new(spec: WorkloadGeneratorSpec, start: DateTime<Utc>, tenant: &str) -> Self {
        let prefix = (mix(spec.seed ^ 0x5eed) >> 32) as u32;
        WorkloadGenerator {
            spec,
            start,
            tenant: tenant.to_string(),
            prefix,
        }
    }

    pub fn applications(&self) -> u64 {
        self.spec.applications
    }

    pub fn service_principals(&self) -> u64 {
        self.spec.service_principals
    }

    fn r(&self, i: u64, k: u64) -> f64 {
        let x = mix(self.spec.seed ^ mix(i.wrapping_mul(131).wrapping_add(k << 48)));
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    fn id(&self, tag: u16, i: u64) -> String {
        format!("{:08x}-{tag:04x}-4000-8000-{i:012x}", self.prefix)
    }

    /// The index of a generated object id of `tag`.
    fn index_of(&self, tag: u16, id: &str, count: u64) -> Option<u64> {
        let rest = id
            .to_ascii_lowercase()
            .strip_prefix(&format!("{:08x}-{tag:04x}-4000-8000-", self.prefix))?
            .to_string();
        let i = u64::from_str_radix(&rest, 16).ok()?;
        (rest.len() == 12 && i < count).then_some(i)
    }

    fn days(&self, days: f64) -> String {
        timefmt::format(self.start + Duration::seconds((days * 86_400.0) as i64))
    }

    /// A credential's end: 5% expired, 5% within 30 days, else far off (days from start).
    fn end(&self, j: u64, k: u64) -> f64 {
        let class = self.r(j, k);
        let spread = self.r(j, k + 1);
        if class < 0.05 {
            -(1.0 + spread * 60.0)
        } else if class < 0.10 {
            1.0 + spread * 29.0
        } else {
            60.0 + spread * 700.0
        }
    }

    pub fn application(&self, j: u64) -> Value {
        let secret_end = self.end(j, 4);
        let mut keys = Vec::new();
        if self.r(j, 6) < 0.3 {
            keys.push(json!({"keyId": self.id(4, j), "displayName": "CN=generated", "type": "AsymmetricX509Cert",
                             "usage": "Verify", "startDateTime": self.days(-400.0), "endDateTime": self.days(self.end(j, 7))}));
        }
        json!({
            "id": self.id(1, j),
            "appId": self.id(2, j),
            "displayName": format!("app-{j:05}"),
            "createdDateTime": self.days(-(100.0 + self.r(j, 3) * 1000.0)),
            "passwordCredentials": [{"keyId": self.id(3, j), "displayName": "generated secret", "hint": "gen",
                                     "startDateTime": self.days(-400.0), "endDateTime": self.days(secret_end)}],
            "keyCredentials": keys,
        })
    }

    pub fn application_by_id(&self, id: &str) -> Option<Value> {
        self.index_of(1, id, self.spec.applications)
            .map(|j| self.application(j))
    }

    pub fn service_principal(&self, k: u64) -> Value {
        let own = k < self.spec.applications;
        let first_party = !own && self.r(k, 8) < 0.3;
        let managed = !own && !first_party && self.r(k, 9) < 0.2;
        json!({
            "id": self.id(6, k),
            "appId": if own { self.id(2, k) } else { self.id(5, k) },
            "displayName": format!("sp-{k:05}"),
            "servicePrincipalType": if managed { "ManagedIdentity" } else { "Application" },
            "appOwnerOrganizationId": if first_party { MICROSOFT_SERVICES.to_string() } else { self.tenant.clone() },
            "accountEnabled": true,
            "passwordCredentials": [],
            "keyCredentials": [],
        })
    }

    /// Service principal `k`'s sign-in activity row; `None` for the dormant half with no row.
    pub fn service_principal_activity(&self, k: u64) -> Option<Value> {
        let dormant = self.r(k, 10) < DORMANT_SHARE;
        if dormant && self.r(k, 11) < 0.5 {
            return None;
        }
        let ago = if dormant {
            100.0 + self.r(k, 12) * 300.0
        } else {
            self.r(k, 12) * 30.0
        };
        let at =
            json!({"lastSignInDateTime": self.days(-ago), "lastSignInRequestId": self.id(9, k)});
        let sp = self.service_principal(k);
        Some(json!({
            "id": self.id(7, k),
            "appId": sp["appId"],
            "lastSignInActivity": at,
            "applicationAuthenticationClientSignInActivity": at,
        }))
    }

    /// Credential use of application `j`'s secret: for half of the expired ones, used within the last day.
    pub fn credential_activity(&self, j: u64) -> Option<Value> {
        if self.end(j, 4) >= 0.0 || self.r(j, 13) >= 0.5 {
            return None;
        }
        Some(json!({
            "id": self.id(8, j),
            "keyId": self.id(3, j),
            "appId": self.id(2, j),
            "keyType": "clientSecret",
            "credentialOrigin": "application",
            "expirationDateTime": self.days(self.end(j, 4)),
            "signInActivity": {"lastSignInDateTime": self.days(-self.r(j, 14)), "lastSignInRequestId": self.id(10, j)},
        }))
    }
}

/// The tenant's workload data: the scenario's objects first, then generated ones.
#[derive(Clone, Debug, Default)]
pub struct Workloads {
    pub applications: Vec<Value>,
    pub app_role_assignments: Vec<Value>,
    pub credential_activities: Vec<Value>,
    pub service_principal_activities: Vec<Value>,
    pub generator: Option<WorkloadGenerator>,
}

impl Workloads {
    pub fn application_by_id(&self, id: &str) -> Option<Value> {
        self.applications
            .iter()
            .find(|a| a["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)))
            .cloned()
            .or_else(|| self.generator.as_ref()?.application_by_id(id))
    }

    /// Every application, scenario first (generated ones computed as they are walked).
    pub fn all_applications(&self) -> impl Iterator<Item = Value> + '_ {
        let generated = self.generator.as_ref().map_or(0, |g| g.applications());
        self.applications.iter().cloned().chain(
            (0..generated).filter_map(move |j| self.generator.as_ref().map(|g| g.application(j))),
        )
    }

    pub fn all_service_principals<'a>(
        &'a self,
        explicit: &'a [Value],
    ) -> impl Iterator<Item = Value> + 'a {
        let generated = self
            .generator
            .as_ref()
            .map_or(0, |g| g.service_principals());
        explicit.iter().cloned().chain(
            (0..generated)
                .filter_map(move |k| self.generator.as_ref().map(|g| g.service_principal(k))),
        )
    }

    pub fn all_service_principal_activities(&self) -> impl Iterator<Item = Value> + '_ {
        let generated = self
            .generator
            .as_ref()
            .map_or(0, |g| g.service_principals());
        self.service_principal_activities.iter().cloned().chain(
            (0..generated)
                .filter_map(move |k| self.generator.as_ref()?.service_principal_activity(k)),
        )
    }

    pub fn all_credential_activities(&self) -> impl Iterator<Item = Value> + '_ {
        let generated = self.generator.as_ref().map_or(0, |g| g.applications());
        self.credential_activities.iter().cloned().chain(
            (0..generated).filter_map(move |j| self.generator.as_ref()?.credential_activity(j)),
        )
    }
}
