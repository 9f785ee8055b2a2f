//! A tenant's runtime state, built once from its scenario spec.

use crate::generator::Generator;
use crate::keys::KeyRing;
use crate::scenario::{AppSpec, GroupSpec, TenantSpec};
use crate::timefmt;
use crate::workloads::{WorkloadGenerator, Workloads};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A sign-in or audit event with the emulator-only fields split off.
#[derive(Clone, Debug)]
pub struct LogEvent {
    pub at: DateTime<Utc>,
    pub id: String,
    pub visible_at: DateTime<Utc>,
    pub event_type: String,
    pub body: Value,
}

pub struct TenantState {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub premium: bool,
    pub p2: bool,
    pub apps: Vec<AppSpec>,
    pub users: Vec<Value>,
    user_index: HashMap<String, usize>,
    pub generator: Option<Generator>,
    /// Newest first, as Graph lists them.
    pub sign_ins: Vec<LogEvent>,
    pub audits: Vec<LogEvent>,
    pub groups: Vec<GroupSpec>,
    pub service_principals: Vec<Value>,
    pub role_assignments: Vec<Value>,
    pub role_eligibility_schedules: Vec<Value>,
    pub role_definitions: Vec<Value>,
    pub group_eligibility_schedules: Vec<Value>,
    pub workloads: Workloads,
    pub posture: crate::routes::posture::Posture,
    pub keys: KeyRing,
}

fn log_events(
    raw: &[Value],
    time_field: &str,
    start: DateTime<Utc>,
    tenant: &str,
) -> anyhow::Result<Vec<LogEvent>> {
    let mut out = Vec::with_capacity(raw.len());
    for (n, v) in raw.iter().enumerate() {
        let mut v = v.clone();
        timefmt::normalize(&mut v, start);
        let obj = v
            .as_object_mut()
            .ok_or_else(|| anyhow::anyhow!("tenant {tenant}: event #{n} is not an object"))?;
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                crate::defaults::derived_guid(&format!("{tenant}:{time_field}:{n}"))
            });
        obj.insert("id".into(), json!(id));
        let at = obj
            .get(time_field)
            .and_then(Value::as_str)
            .and_then(timefmt::parse)
            .ok_or_else(|| {
                anyhow::anyhow!("tenant {tenant}: event {id} needs an RFC 3339 {time_field}")
            })?;
        let visible_at = match obj.remove("visible_at") {
            Some(Value::String(s)) => timefmt::parse(&s)
                .ok_or_else(|| anyhow::anyhow!("event {id}: bad visible_at {s}"))?,
            _ => at,
        };
        let event_type = match obj.remove("event_type") {
            Some(Value::String(s)) => s,
            _ => obj
                .get("signInEventTypes")
                .and_then(|t| t.get(0))
                .and_then(Value::as_str)
                .unwrap_or("interactiveUser")
                .to_string(),
        };
        if time_field == "createdDateTime" {
            crate::defaults::fill_sign_in(obj, &event_type);
        } else {
            crate::defaults::fill_audit(obj);
        }
        out.push(LogEvent {
            at,
            id,
            visible_at,
            event_type,
            body: v,
        });
    }
    out.sort_by(|a, b| (b.at, &b.id).cmp(&(a.at, &a.id)));
    Ok(out)
}

fn normalize_user(mut u: Value, start: DateTime<Utc>, tenant: &str) -> anyhow::Result<Value> {
    timefmt::normalize(&mut u, start);
    let obj = u
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("tenant {tenant}: a user is not an object"))?;
    if !obj.get("id").is_some_and(Value::is_string) {
        anyhow::bail!("tenant {tenant}: every user needs a string id");
    }
    // Scenario files list sku ids; Graph returns assignedLicense objects (Graph docs `resources/assignedlicense`).
    if let Some(Value::Array(list)) = obj.get_mut("assignedLicenses") {
        for item in list.iter_mut() {
            if let Value::String(sku) = item {
                *item = json!({"disabledPlans": [], "skuId": sku});
            }
        }
    }
    Ok(u)
}

impl TenantState {
    pub fn build(spec: &TenantSpec, start: DateTime<Utc>) -> anyhow::Result<TenantState> {
        let t = &spec.id;
        let users = spec
            .users
            .iter()
            .map(|u| normalize_user(u.clone(), start, t))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let user_index = users
            .iter()
            .enumerate()
            .filter_map(|(i, u)| {
                u.get("id")
                    .and_then(Value::as_str)
                    .map(|id| (id.to_ascii_lowercase(), i))
            })
            .collect();
        let domain = if spec.domain.is_empty() {
            format!("{}.onmicrosoft.com", spec.name)
        } else {
            spec.domain.clone()
        };
        let normalize_all = |list: &[Value]| {
            list.iter()
                .map(|v| {
                    let mut v = v.clone();
                    timefmt::normalize(&mut v, start);
                    v
                })
                .collect::<Vec<_>>()
        };
        let mut role_assignments = normalize_all(&spec.role_assignments);
        let mut role_eligibility_schedules = normalize_all(&spec.role_eligibility_schedules);
        for v in role_assignments
            .iter_mut()
            .chain(role_eligibility_schedules.iter_mut())
        {
            if let Some(o) = v.as_object_mut() {
                o.entry("directoryScopeId").or_insert(json!("/"));
            }
        }
        for v in role_assignments.iter_mut() {
            if let Some(o) = v.as_object_mut() {
                o.entry("resourceScope").or_insert(json!("/"));
            }
        }
        Ok(TenantState {
            id: spec.id.clone(),
            name: spec.name.clone(),
            generator: spec
                .generator
                .clone()
                .map(|g| Generator::new(g, &domain, start)),
            domain,
            premium: spec.premium,
            p2: spec.p2,
            apps: spec.apps.clone(),
            users,
            user_index,
            sign_ins: log_events(&spec.sign_ins, "createdDateTime", start, t)?,
            audits: log_events(&spec.audits, "activityDateTime", start, t)?,
            groups: spec.groups.clone(),
            service_principals: normalize_all(&spec.service_principals),
            role_assignments,
            role_eligibility_schedules,
            role_definitions: if spec.role_definitions.is_empty() {
                crate::routes::builtin_role_definitions()
            } else {
                spec.role_definitions.clone()
            },
            group_eligibility_schedules: normalize_all(&spec.group_eligibility_schedules),
            workloads: Workloads {
                applications: normalize_all(&spec.applications),
                app_role_assignments: normalize_all(&spec.app_role_assignments),
                credential_activities: normalize_all(&spec.app_credential_sign_in_activities),
                service_principal_activities: normalize_all(
                    &spec.service_principal_sign_in_activities,
                ),
                generator: spec
                    .workload_generator
                    .clone()
                    .map(|g| WorkloadGenerator::new(g, start, &spec.id)),
            },
            posture: crate::routes::posture::Posture {
                policies: normalize_all(&spec.conditional_access_policies),
                methods: normalize_all(&spec.authentication_methods),
                instances: normalize_all(&spec.role_assignment_schedule_instances),
            },
            keys: KeyRing::new(spec.signing_key_pem.clone()),
        })
    }

    /// Scenario users first, then generated ones.
    pub fn user_count(&self) -> u64 {
        self.users.len() as u64 + self.generator.as_ref().map_or(0, Generator::count)
    }

    pub fn user_at(&self, i: u64) -> Option<Value> {
        let n = self.users.len() as u64;
        if i < n {
            return self.users.get(i as usize).cloned();
        }
        let g = self.generator.as_ref()?;
        (i - n < g.count()).then(|| g.user(i - n))
    }

    pub fn user_by_id(&self, id: &str) -> Option<Value> {
        if let Some(&i) = self.user_index.get(&id.to_ascii_lowercase()) {
            return self.users.get(i).cloned();
        }
        let g = self.generator.as_ref()?;
        g.index_of(&id.to_ascii_lowercase()).map(|i| g.user(i))
    }

    pub fn group(&self, id: &str) -> Option<&GroupSpec> {
        self.groups.iter().find(|g| g.id.eq_ignore_ascii_case(id))
    }

    pub fn app(&self, client_id: &str) -> Option<&AppSpec> {
        self.apps
            .iter()
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    }

    pub fn service_principal(&self, id: &str) -> Option<&Value> {
        self.service_principals.iter().find(|s| {
            s.get("id")
                .and_then(Value::as_str)
                .is_some_and(|i| i.eq_ignore_ascii_case(id))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_generated_users_cost_nothing_until_read() {
        let spec: TenantSpec = serde_json::from_value(json!({
            "id": "t", "name": "big", "generator": {"users": 1_000_000, "seed": 9}
        }))
        .expect("spec");
        let start = timefmt::parse("2026-11-22T06:00:00Z").expect("start");
        let t = TenantState::build(&spec, start).expect("builds");
        assert_eq!(t.user_count(), 1_000_000);
        let last = t.user_at(999_999).expect("last user");
        let id = last["id"].as_str().expect("id");
        assert_eq!(t.user_by_id(id), Some(last.clone()));
        assert!(t.user_at(1_000_000).is_none());
    }
}
