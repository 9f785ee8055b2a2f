//! Deterministic synthetic users for large tenants.
//!
//! User `i` is a pure function of `(seed, i, start)`: nothing is stored, so a million users cost no memory
//! and any page can be computed on demand. The index is encoded in the id so `/users/{id}` can find it.

use crate::scenario::GeneratorSpec;
use crate::timefmt;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};

/// An example licence SKU id for generated users.
const SKU: &str = "c7df2760-2c81-4ef7-b578-5b5392b571df";

#[derive(Clone, Debug)]
pub struct Generator {
    spec: GeneratorSpec,
    domain: String,
    start: DateTime<Utc>,
    prefix: String,
}

/// splitmix64: a tiny, fixed mixing function, so the output never changes with a crate upgrade.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Generator {
    pub fn new(spec: GeneratorSpec, domain: &str, start: DateTime<Utc>) -> Self {
        let h = mix(spec.seed);
        let prefix = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-",
            h >> 32,
            (h >> 16) & 0xffff,
            (h >> 4) & 0xfff,
            h & 0xfff
        );
        Generator {
            spec,
            domain: domain.to_string(),
            start,
            prefix,
        }
    }

    pub fn count(&self) -> u64 {
        self.spec.users
    }

    /// A uniform value in [0, 1) for attribute `k` of user `i`.
    fn r(&self, i: u64, k: u64) -> f64 {
        let x = mix(self.spec.seed ^ mix(i.wrapping_mul(31).wrapping_add(k)));
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    fn guid(&self, i: u64, k: u64) -> String {
        let a = mix(self.spec.seed ^ mix(i ^ (k << 40)));
        let b = mix(a);
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }

    pub fn id(&self, i: u64) -> String {
        format!("{}{:012x}", self.prefix, i)
    }

    /// The index of a generated user id, if it is one.
    pub fn index_of(&self, id: &str) -> Option<u64> {
        let hex = id.strip_prefix(&self.prefix)?;
        let i = u64::from_str_radix(hex, 16).ok()?;
        (hex.len() == 12 && i < self.spec.users).then_some(i)
    }

    fn days_ago(&self, days: f64) -> String {
        timefmt::format(self.start - Duration::seconds((days * 86_400.0) as i64))
    }

    /// The full user object at index `i` (Graph property names).
    pub fn user(&self, i: u64) -> Value {
        let guest = self.r(i, 1) < self.spec.guests;
        let mut u = Map::new();
        u.insert("id".into(), json!(self.id(i)));
        let (upn, mail) = if guest {
            let ext = format!("guest{i:07}@fabrikam.example");
            (
                format!("guest{i:07}_fabrikam.example#EXT#@{}", self.domain),
                ext,
            )
        } else {
            let upn = format!("user{i:07}@{}", self.domain);
            (upn.clone(), upn)
        };
        u.insert("userPrincipalName".into(), json!(upn));
        u.insert(
            "displayName".into(),
            json!(format!("{} {i}", if guest { "Guest" } else { "User" })),
        );
        u.insert("mail".into(), json!(mail));
        u.insert(
            "userType".into(),
            json!(if guest { "Guest" } else { "Member" }),
        );
        u.insert(
            "accountEnabled".into(),
            json!(self.r(i, 2) >= self.spec.disabled),
        );
        let created_days = 30.0 + self.r(i, 3) * 1500.0;
        u.insert("createdDateTime".into(), json!(self.days_ago(created_days)));
        let synced = !guest && self.r(i, 4) < self.spec.synced;
        u.insert(
            "onPremisesSyncEnabled".into(),
            if synced { json!(true) } else { Value::Null },
        );
        let licences = if self.r(i, 5) < self.spec.licensed {
            json!([{"disabledPlans": [], "skuId": SKU}])
        } else {
            json!([])
        };
        u.insert("assignedLicenses".into(), licences);
        if guest {
            let pending = self.r(i, 6) < 0.1;
            u.insert(
                "externalUserState".into(),
                json!(if pending {
                    "PendingAcceptance"
                } else {
                    "Accepted"
                }),
            );
            u.insert(
                "externalUserStateChangeDateTime".into(),
                json!(self.days_ago(created_days - 1.0)),
            );
        } else {
            u.insert("externalUserState".into(), Value::Null);
            u.insert("externalUserStateChangeDateTime".into(), Value::Null);
        }
        if let Some(activity) = self.sign_in_activity(i, created_days) {
            u.insert("signInActivity".into(), activity);
        }
        Value::Object(u)
    }

    /// `None` is the "property missing" shape of a never-signed-in user.
    fn sign_in_activity(&self, i: u64, created_days: f64) -> Option<Value> {
        if self.r(i, 7) < self.spec.never_signed_in {
            // The four "never" shapes seen in Graph responses (graph-examples/README.md).
            let never = match i % 4 {
                0 => return None,
                1 => json!(""),
                2 => json!("0001-01-01T00:00:00Z"),
                _ => Value::Null,
            };
            return Some(json!({
                "lastSignInDateTime": never, "lastSignInRequestId": null,
                "lastNonInteractiveSignInDateTime": never, "lastNonInteractiveSignInRequestId": null,
                "lastSuccessfulSignInDateTime": never, "lastSuccessfulSignInRequestId": null,
            }));
        }
        let ago = if self.r(i, 8) < self.spec.dormant {
            91.0 + self.r(i, 9) * 600.0
        } else {
            self.r(i, 9) * 89.0
        };
        let ago = ago.min(created_days);
        let non_interactive = (ago - self.r(i, 10)).max(0.0);
        Some(json!({
            "lastSignInDateTime": self.days_ago(ago),
            "lastSignInRequestId": self.guid(i, 1),
            "lastNonInteractiveSignInDateTime": self.days_ago(non_interactive),
            "lastNonInteractiveSignInRequestId": self.guid(i, 2),
            "lastSuccessfulSignInDateTime": self.days_ago(ago),
            "lastSuccessfulSignInRequestId": self.guid(i, 1),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generator(seed: u64) -> Generator {
        let spec: GeneratorSpec =
            serde_json::from_value(json!({"users": 1000, "seed": seed})).expect("spec");
        let start = timefmt::parse("2026-11-22T06:00:00Z").expect("start");
        Generator::new(spec, "contoso.example", start)
    }

    #[test]
    fn same_seed_gives_the_same_user() {
        assert_eq!(generator(7).user(123), generator(7).user(123));
        assert_ne!(generator(7).user(123), generator(8).user(123));
    }

    #[test]
    fn generated_ids_map_back_to_their_index() {
        let g = generator(7);
        assert_eq!(g.index_of(&g.id(999)), Some(999));
        assert_eq!(g.index_of(&g.id(1000)), None);
        assert_eq!(g.index_of("not-an-id"), None);
    }
}
