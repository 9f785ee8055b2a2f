//! The three posture rules, pure: what an emergency account needs to work on the day it is needed (Entra docs
//! `security-emergency-access.md`, 2025-02-10; REFERENCE.md §12).

use std::collections::HashSet;

use crate::graph::model::{
    AuthenticationMethod, ConditionalAccessPolicy, GrantControls, RoleAssignmentScheduleInstance,
};

/// Global Administrator's role template id (Entra docs `permissions-reference.md`).
pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
/// The built-in "Phishing-resistant MFA" authentication strength (Graph docs
/// `resources/authenticationstrengthpolicy.md`, built-in policies).
pub const PHISHING_RESISTANT_STRENGTH: &str = "00000000-0000-0000-0000-000000000004";
/// `authenticationMethodModes` that resist phishing (Entra docs `concept-authentication-strengths.md`).
const PHISHING_RESISTANT_MODES: &[&str] = &[
    "fido2",
    "windowsHelloForBusiness",
    "x509CertificateMultiFactor",
];
/// Registered methods Microsoft recommends for emergency accounts: passkeys (FIDO2) and certificate-based
/// authentication (Entra docs `security-emergency-access.md`).
const PHISHING_RESISTANT_METHODS: &[&str] = &[
    "fido2AuthenticationMethod",
    "x509CertificateAuthenticationMethod",
];

/// What decides whether a policy reaches an account: its object id, its groups (transitive) and the role
/// template ids it holds actively. All lower-case.
#[derive(Debug, Clone, Default)]
pub struct AccountScope {
    pub id: String,
    pub groups: HashSet<String>,
    pub roles: HashSet<String>,
}

/// How a policy reaches the account that it does not exclude.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    AllUsers,
    Directly,
    Group(String),
    Role(String),
}

impl Reach {
    /// The rule that applies, for the alert: `includeUsers: All`, `includeGroups: <id>`, ...
    pub fn rule(&self) -> String {
        match self {
            Reach::AllUsers => "includeUsers: All".into(),
            Reach::Directly => "includeUsers: the account".into(),
            Reach::Group(g) => format!("includeGroups: {g} (the account is a transitive member)"),
            Reach::Role(r) => format!("includeRoles: {r} (the account holds it)"),
        }
    }
}

/// What a policy means for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Disabled, not reaching the account, excluding it, or only requiring phishing-resistant authentication.
    Passes,
    /// Enabled, reaches the account and does not exclude it.
    Applies(Reach),
    /// Report-only: listed, not alerted.
    ReportOnly(Reach),
}

fn lower_set(ids: &[String]) -> HashSet<String> {
    ids.iter().map(|i| i.to_ascii_lowercase()).collect()
}

pub fn judge(policy: &ConditionalAccessPolicy, account: &AccountScope) -> Verdict {
    let state = policy.state.as_deref().unwrap_or_default();
    let report_only = state.eq_ignore_ascii_case("enabledForReportingButNotEnforced");
    if !state.eq_ignore_ascii_case("enabled") && !report_only {
        return Verdict::Passes;
    }
    let users = policy
        .conditions
        .as_ref()
        .and_then(|c| c.users.clone())
        .unwrap_or_default();
    let (include_users, exclude_users) = (
        lower_set(&users.include_users),
        lower_set(&users.exclude_users),
    );
    let reach = if include_users.contains(&account.id) {
        Some(Reach::Directly)
    } else if include_users.contains("all") {
        Some(Reach::AllUsers)
    } else if let Some(g) = first_shared(&users.include_groups, &account.groups) {
        Some(Reach::Group(g))
    } else {
        first_shared(&users.include_roles, &account.roles).map(Reach::Role)
    };
    let Some(reach) = reach else {
        return Verdict::Passes;
    };
    let excluded = exclude_users.contains(&account.id)
        || first_shared(&users.exclude_groups, &account.groups).is_some()
        || first_shared(&users.exclude_roles, &account.roles).is_some();
    if excluded || only_phishing_resistant(policy.grant_controls.as_ref()) {
        return Verdict::Passes;
    }
    if report_only {
        Verdict::ReportOnly(reach)
    } else {
        Verdict::Applies(reach)
    }
}

fn first_shared(ids: &[String], held: &HashSet<String>) -> Option<String> {
    ids.iter()
        .find(|i| held.contains(&i.to_ascii_lowercase()))
        .cloned()
}

/// Microsoft's recommended cover for emergency accounts: the policy grants access with a phishing-resistant
/// authentication strength and asks nothing else (no block, no device, no terms of use).
pub fn only_phishing_resistant(grant: Option<&GrantControls>) -> bool {
    let Some(grant) = grant else {
        return false;
    };
    let Some(strength) = &grant.authentication_strength else {
        return false;
    };
    if !grant.built_in_controls.is_empty()
        || !grant.custom_authentication_factors.is_empty()
        || !grant.terms_of_use.is_empty()
    {
        return false;
    }
    let built_in = strength
        .id
        .as_deref()
        .is_some_and(|id| id.eq_ignore_ascii_case(PHISHING_RESISTANT_STRENGTH));
    let custom = !strength.allowed_combinations.is_empty()
        && strength.allowed_combinations.iter().all(|combination| {
            PHISHING_RESISTANT_MODES
                .iter()
                .any(|m| m.eq_ignore_ascii_case(combination.trim()))
        });
    built_in || custom
}

/// Whether any registered method is a passkey (FIDO2) or a certificate.
pub fn has_phishing_resistant_method(methods: &[AuthenticationMethod]) -> bool {
    methods.iter().any(|m| {
        PHISHING_RESISTANT_METHODS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(m.kind()))
    })
}

/// Whether the account holds Global Administrator as a standing (`Assigned`), non-expiring, tenant-wide
/// assignment. An activation of an eligible role is not permanent: it ends.
pub fn permanent_global_admin(instances: &[RoleAssignmentScheduleInstance]) -> bool {
    instances.iter().any(|i| {
        i.role_definition_id
            .eq_ignore_ascii_case(GLOBAL_ADMINISTRATOR)
            && i.assignment_type
                .as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case("Assigned"))
            && i.end_date_time.is_none()
            && i.directory_scope_id.as_deref().is_none_or(|s| s == "/")
    })
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
