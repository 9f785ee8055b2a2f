//! Lists every user of a generated tenant with `signInActivity` through the pager, against the in-process
//! emulator with throttling off, and prints throughput and memory.
//!
//! `cargo bench -p entrawatch-core --bench list_users -- --users 1000000`
//!
//! The emulator runs in the same process, so RSS covers both; the RSS samples taken while paging show whether
//! memory grows with the tenant (it should not: one page is held at a time).

use std::time::{Duration, Instant};

use entrawatch_core::graph::model::User;
use entrawatch_core::graph::{
    ClientCredential, ClientOptions, Cloud, GraphClient, GraphRequest, PacingLimits,
    TenantConnection, UserQuery,
};
use entrawatch_core::Secret;
use entrawatch_emulator::{Emulator, Scenario};

#[path = "support/process.rs"]
mod process;

use process::proc_status_kib;

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
const SECRET: &str = "bench-secret-not-real";

fn users_argument() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|pair| pair[0] == "--users")
        .and_then(|pair| pair[1].replace('_', "").parse().ok())
        .unwrap_or(1_000_000)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users = users_argument();
    let scenario = Scenario::from_toml_str(&format!(
        "[throttle]\nenabled = false\n[[tenants]]\nid = \"{TENANT}\"\nname = \"bench\"\n\
         [tenants.generator]\nusers = {users}\nseed = 1\n[[tenants.apps]]\nclient_id = \"{CLIENT}\"\nsecret = \"{SECRET}\"\n"
    ))
    .map_err(|e| e.to_string())?;
    let emu = Emulator::start(scenario).await.map_err(|e| e.to_string())?;
    let conn = TenantConnection {
        tenant_id: TENANT.into(),
        tenant_name: "bench".into(),
        client_id: CLIENT.into(),
        credential: ClientCredential::Secret(Secret::new(SECRET)),
        cloud: Cloud::Global,
        graph_url: Some(emu.url()),
        login_url: Some(emu.url()),
    };
    let options = ClientOptions {
        pacing: PacingLimits::unlimited(),
        run_deadline: Duration::from_secs(24 * 3600),
        ..ClientOptions::default()
    };
    let client = GraphClient::new(conn, options)?;
    let rss_before = proc_status_kib("VmRSS:");
    let mut pager = client.pages::<User>(GraphRequest::users(&UserQuery::default()));
    let started = Instant::now();
    let (mut listed, mut never_signed_in, mut largest_page) = (0u64, 0u64, 0usize);
    let mut rss_samples = Vec::new();
    while let Some(page) = pager.next_page().await? {
        largest_page = largest_page.max(page.items.len());
        listed += page.items.len() as u64;
        never_signed_in += page
            .items
            .iter()
            .filter(|u| {
                u.sign_in_activity
                    .as_ref()
                    .is_none_or(|a| a.last_sign_in.is_none())
            })
            .count() as u64;
        if pager.pages_fetched().is_power_of_two() {
            rss_samples.push((listed, proc_status_kib("VmRSS:")));
        }
    }
    let elapsed = started.elapsed();
    let metrics = client.metrics();
    println!("users listed        {listed} (never signed in: {never_signed_in})");
    println!("elapsed             {:.2} s", elapsed.as_secs_f64());
    println!(
        "users/second        {:.0}",
        listed as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    println!(
        "pages               {} (largest {largest_page})",
        pager.pages_fetched()
    );
    println!(
        "graph requests      {} (token requests {}, retries {}, 429s {})",
        metrics.requests, metrics.token_requests, metrics.retries, metrics.throttled_429
    );
    println!(
        "RSS before listing  {} KiB (emulator and client)",
        rss_before
    );
    for (at, rss) in rss_samples {
        println!("RSS after {at:>9} users  {rss} KiB");
    }
    println!(
        "peak RSS (VmHWM)    {} KiB (emulator and client share the process)",
        proc_status_kib("VmHWM:")
    );
    emu.stop().await;
    Ok(())
}
