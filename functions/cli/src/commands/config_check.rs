//! `entrawatch config check`: validate the file, resolve secret references (never printing them), then make one
//! Graph call for each thing the jobs read and report every problem by name: bad credentials, a tenant without
//! Entra ID P1/P2, a missing permission, an emergency account that does not exist.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use entrawatch_core::config::{Config, TenantConfig};
use entrawatch_core::graph::{
    AuditQuery, ClientOptions, GraphClient, GraphError, GraphRequest, SignInKind, SignInQuery,
    TimeWindow, UserQuery,
};
use entrawatch_core::secrets::SecretResolver;
use entrawatch_core::sinks::{build_sink, http_client};

/// One Graph read the jobs depend on, with what it needs so a failure can say what to grant.
struct Probe {
    what: &'static str,
    request: GraphRequest,
    /// A licence error here is a limitation, not a failure (PIM needs P2; REFERENCE.md §3).
    licence_optional: bool,
}

pub async fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let resolver = SecretResolver::new();
    let config = Config::load(path, &resolver).await?;
    if config.tenants.is_empty() {
        anyhow::bail!(
            "config check: {} has no [[tenants]] and no tenants_from",
            path.display()
        );
    }
    println!(
        "config {}: syntax and values ok ({} tenant(s))",
        path.display(),
        config.tenants.len()
    );
    let mut problems = 0;
    for tenant in &config.tenants {
        problems += check_tenant(tenant, &resolver).await;
    }
    // Each sink as `run` builds it: its secrets resolved, its URL https (or loopback http), its
    // signing secret well formed. A sink that fails here is down in every run.
    let http = http_client().map_err(anyhow::Error::msg)?;
    for sink in &config.sinks {
        let what = format!("sink {}", sink.name);
        let built = build_sink(sink, &resolver, &http).await.map(|_| ());
        // The error names the sink itself; say it once.
        let built = built.map_err(|e| {
            let text = e.to_string();
            text.strip_prefix(&format!("{what}: "))
                .unwrap_or(&text)
                .to_string()
        });
        problems += report(&what, built);
    }
    if problems > 0 {
        anyhow::bail!("config check: {problems} problem(s) found; see above");
    }
    println!("config check: everything works");
    Ok(ExitCode::SUCCESS)
}

async fn check_tenant(tenant: &TenantConfig, resolver: &SecretResolver) -> usize {
    println!("tenant {} ({})", tenant.name, tenant.id);
    let emergency = tenant.break_glass.as_ref().map_or(0, |b| b.accounts.len());
    if tenant.dormant.is_some() && emergency == 0 {
        println!(
            "  warn  {}",
            entrawatch_core::jobs::dormant::NO_EMERGENCY_ACCOUNTS
        );
    }
    let connection = match tenant.connection(resolver).await {
        Ok(c) => c,
        Err(e) => return report("credential", Err(e)),
    };
    let options = ClientOptions {
        run_deadline: Duration::from_secs(120),
        ..ClientOptions::default()
    };
    let client = match GraphClient::new(connection, options) {
        Ok(c) => c,
        Err(e) => return report("connection settings", Err(e)),
    };
    let mut problems = 0;
    for probe in probes(tenant) {
        let result = client
            .page::<serde_json::Value>(&probe.request.with_page_size(1), None)
            .await
            .map(|_| ());
        match result {
            Err(GraphError::LicenceRequired { needs, .. }) if probe.licence_optional => {
                println!(
                    "  note  {}: tenant lacks {needs}; that part of the check is skipped",
                    probe.what
                );
            }
            // Every later probe would fail the same way: report the credential problem once.
            Err(
                e @ (GraphError::TokenRejected { .. } | GraphError::CredentialUnavailable { .. }),
            ) => {
                return problems + report(probe.what, Err(e));
            }
            other => problems += report(probe.what, other),
        }
    }
    for account in tenant.break_glass.iter().flat_map(|b| &b.accounts) {
        let what = format!("emergency account {account}");
        match client
            .get_optional::<serde_json::Value>(&GraphRequest::user(account))
            .await
        {
            Ok(Some(_)) => problems += report(&what, Ok::<(), GraphError>(())),
            Ok(None) => {
                println!(
                    "  FAIL  {what}: no such user in the tenant (deleted, or a wrong object id)"
                );
                problems += 1;
            }
            Err(e) => problems += report(&what, Err(e)),
        }
    }
    problems
}

fn probes(tenant: &TenantConfig) -> Vec<Probe> {
    let now = Utc::now();
    let window = TimeWindow {
        from: now - chrono::Duration::hours(1),
        to: now,
    };
    let mut probes = vec![
        Probe {
            what: "users with signInActivity (User.Read.All, AuditLog.Read.All, P1/P2)",
            request: GraphRequest::users(&UserQuery::default()),
            licence_optional: false,
        },
        Probe {
            what: "sign-in logs (AuditLog.Read.All, Directory.Read.All, P1/P2)",
            request: GraphRequest::sign_ins(&SignInQuery {
                kind: SignInKind::Interactive,
                window,
                user_ids: vec![],
            }),
            licence_optional: false,
        },
    ];
    if tenant
        .break_glass
        .as_ref()
        .is_some_and(|b| b.include_non_interactive)
    {
        probes.push(Probe {
            what: "non-interactive sign-in logs (beta)",
            request: GraphRequest::sign_ins(&SignInQuery {
                kind: SignInKind::NonInteractive,
                window,
                user_ids: vec![],
            }),
            licence_optional: false,
        });
    }
    let audit_target = tenant
        .break_glass
        .as_ref()
        .and_then(|b| b.accounts.first().cloned())
        .unwrap_or_else(|| tenant.id.clone());
    probes.push(Probe {
        what: "directory audits (AuditLog.Read.All)",
        request: GraphRequest::directory_audits(&AuditQuery {
            also_logged_by: None,
            target_ids: vec![audit_target],
            window,
        }),
        licence_optional: false,
    });
    probes.push(Probe {
        what: "role assignments (RoleManagement.Read.Directory)",
        request: GraphRequest::role_assignments(),
        licence_optional: false,
    });
    probes.push(Probe {
        what: "PIM role eligibility (RoleManagement.Read.Directory, P2)",
        request: GraphRequest::role_eligibility_schedules(),
        licence_optional: true,
    });
    probes.push(Probe {
        what: "role definitions, isPrivileged (RoleManagement.Read.Directory)",
        request: GraphRequest::role_definitions(),
        licence_optional: false,
    });
    // Graph lists PIM for Groups eligibility only per group or principal: a group id that exists nowhere proves
    // the permission with an empty answer.
    probes.push(Probe {
        what: "PIM for Groups eligibility (PrivilegedEligibilitySchedule.Read.AzureADGroup, P2)",
        request: GraphRequest::group_eligibility_schedules("00000000-0000-0000-0000-000000000000"),
        licence_optional: true,
    });
    if let Some(account) = tenant
        .break_glass
        .as_ref()
        .filter(|b| b.posture)
        .and_then(|b| b.accounts.first())
    {
        // Issue 16: the posture checks' reads (REFERENCE.md §12). Conditional Access needs P1; without it a
        // tenant has no policies to judge, so the licence is optional here.
        probes.push(Probe {
            what: "Conditional Access policies (Policy.Read.All)",
            request: GraphRequest::conditional_access_policies(),
            licence_optional: true,
        });
        probes.push(Probe {
            what:
                "an emergency account's authentication methods (UserAuthenticationMethod.Read.All)",
            request: GraphRequest::user_authentication_methods(account),
            licence_optional: false,
        });
    }
    if tenant.workloads.is_some() {
        // Issue 15: the workloads job's reads (REFERENCE.md §11). The credential reports need P1; without it the
        // credential alerts still run, so the licence is optional here.
        probes.push(Probe {
            what: "app registrations with credentials (Application.Read.All)",
            request: GraphRequest::applications(),
            licence_optional: false,
        });
        probes.push(Probe {
            what: "service principals with credentials (Application.Read.All)",
            request: GraphRequest::service_principals(),
            licence_optional: false,
        });
        probes.push(Probe {
            what: "service principal sign-in activity (beta; AuditLog.Read.All, P1/P2)",
            request: GraphRequest::service_principal_sign_in_activities(),
            licence_optional: true,
        });
        probes.push(Probe {
            what: "app credential sign-in activity (beta; AuditLog.Read.All, P1/P2)",
            request: GraphRequest::app_credential_sign_in_activities(),
            licence_optional: true,
        });
    }
    probes
}

/// Prints one result line; returns 1 for a problem, 0 otherwise.
fn report<E: std::fmt::Display>(what: &str, result: Result<(), E>) -> usize {
    match result {
        Ok(()) => {
            println!("  ok    {what}");
            0
        }
        Err(e) => {
            println!("  FAIL  {what}: {e}");
            1
        }
    }
}
