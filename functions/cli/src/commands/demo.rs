//! `entrawatch demo`: starts the bundled Entra ID / Graph emulator with its sample tenant on 127.0.0.1, connects
//! to it through the same configuration and Graph client the jobs use, and shows the reads end to end.
//! No config, no network, no credentials of yours.

use std::process::ExitCode;

use chrono::{Duration, Utc};
use entrawatch_core::config::Config;
use entrawatch_core::graph::{
    AuditQuery, ClientOptions, GraphClient, GraphPort, SignInKind, SignInQuery, TimeWindow,
    UserQuery,
};
use entrawatch_core::secrets::SecretResolver;
use entrawatch_emulator::{Emulator, Scenario};

use crate::OutputFormat;

/// The sample tenant's emergency accounts (tests/emulator/scenarios/sample.toml).
const SAMPLE_BREAK_GLASS: [&str; 2] = [
    "0b000000-0000-4000-8000-0000000000b1",
    "0b000000-0000-4000-8000-0000000000b2",
];

pub async fn run(_output: OutputFormat) -> anyhow::Result<ExitCode> {
    let scenario = Scenario::sample();
    let tenant = scenario
        .tenants
        .first()
        .ok_or_else(|| anyhow::anyhow!("demo: the bundled scenario has no tenant"))?;
    let app = tenant
        .apps
        .first()
        .ok_or_else(|| anyhow::anyhow!("demo: the bundled scenario has no app"))?;
    let (tenant_id, tenant_name, client_id) = (
        tenant.id.clone(),
        tenant.name.clone(),
        app.client_id.clone(),
    );
    let secret = app.secret.clone().unwrap_or_default();
    let emulator = Emulator::start(scenario).await?;
    println!(
        "emulator: sample tenant {tenant_name} ({tenant_id}) on {}",
        emulator.url()
    );

    // The demo goes through the same path as a user's config file: TOML, validation, secret reference.
    std::env::set_var("ENTRAWATCH_DEMO_CLIENT_SECRET", secret);
    let config = Config::from_toml_str(
        &format!(
            r#"
[[tenants]]
name = "{tenant_name}"
id = "{tenant_id}"
client_id = "{client_id}"
credential = {{ type = "secret", secret = "env:ENTRAWATCH_DEMO_CLIENT_SECRET" }}
graph_url = "{url}"
login_url = "{url}"
[tenants.break_glass]
accounts = ["{bg1}", "{bg2}"]
"#,
            url = emulator.url(),
            bg1 = SAMPLE_BREAK_GLASS[0],
            bg2 = SAMPLE_BREAK_GLASS[1],
        ),
        "demo",
    )?;
    let connection = config.tenants[0].connection(&SecretResolver::new()).await?;
    let client = GraphClient::new(connection, ClientOptions::default())?;
    let result = show_reads(&client).await;
    emulator.stop().await;
    result?;
    let m = client.metrics();
    println!(
        "graph: {} requests, {} token request(s), {} throttled, {} retries",
        m.requests, m.token_requests, m.throttled_429, m.retries
    );
    println!("the break-glass and dormant jobs are not built yet in this version; these are the reads they will use");
    Ok(ExitCode::SUCCESS)
}

async fn show_reads(client: &GraphClient) -> anyhow::Result<()> {
    let mut users = 0;
    let mut never_succeeded = 0;
    let mut next: Option<String> = None;
    loop {
        let page = client
            .list_users(&UserQuery::default(), next.as_deref())
            .await?;
        users += page.items.len();
        never_succeeded += page
            .items
            .iter()
            .filter(|u| {
                u.sign_in_activity
                    .as_ref()
                    .and_then(|a| a.last_successful_sign_in)
                    .is_none()
            })
            .count();
        match page.next_link {
            Some(link) => next = Some(link),
            None => break,
        }
    }
    println!("users: {users} read with signInActivity; {never_succeeded} with no successful sign-in on record");

    let window = TimeWindow {
        from: Utc::now() - Duration::hours(24),
        to: Utc::now(),
    };
    let accounts: Vec<String> = SAMPLE_BREAK_GLASS.iter().map(|s| s.to_string()).collect();
    for kind in [SignInKind::Interactive, SignInKind::NonInteractive] {
        let query = SignInQuery {
            kind,
            window,
            user_ids: accounts.clone(),
        };
        let page = client.list_sign_ins(&query, None).await?;
        for s in &page.items {
            println!(
                "sign-in ({kind:?}) by emergency account {}: {} at {}, errorCode {}",
                s.user_principal_name.as_deref().unwrap_or("?"),
                s.app_display_name.as_deref().unwrap_or("?"),
                s.created_date_time.to_rfc3339(),
                s.status
                    .error_code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "none".into()),
            );
        }
    }
    let audits = client
        .list_directory_audits(
            &AuditQuery {
                target_id: accounts[0].clone(),
                window: TimeWindow {
                    from: Utc::now() - Duration::days(7),
                    to: Utc::now(),
                },
            },
            None,
        )
        .await?;
    for a in &audits.items {
        println!(
            "change to emergency account: {} at {}",
            a.activity_display_name,
            a.activity_date_time.to_rfc3339()
        );
    }
    let roles = client.list_role_assignments(None).await?;
    println!("role assignments: {} active", roles.items.len());
    Ok(())
}
