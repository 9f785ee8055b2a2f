//! `entrawatch inventory` end to end against the emulator (issue 16): the three formats, the HTML's counts equal
//! to the CSV's, hostile tenant strings escaped, findings from the state store first, a missing permission a
//! note. `ENTRAWATCH_INVENTORY_KEEP=<dir>` keeps the emulator tenant's report there (the browser test opens it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use entrawatch_emulator::{Emulator, Scenario};

const BIN: &str = env!("CARGO_BIN_EXE_entrawatch");
const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>";
const HOSTILE_DISPLAY: &str = "\"</script><script>alert(2)</script>";

/// The sample tenant, a guest with hostile names, a service principal with a hostile name, and 300 generated
/// users (several pages of the registration report at the emulator's default of 100 a page).
fn scenario() -> Scenario {
    let base = include_str!("../../../tests/emulator/scenarios/sample.toml");
    let extra = format!(
        r#"
[[tenants.users]]
id = "0a000000-0000-4000-8000-0000000000e1"
userPrincipalName = '{HOSTILE_NAME}'
displayName = '{HOSTILE_DISPLAY}'
userType = "Guest"
accountEnabled = true
createdDateTime = "-30d"
methodsRegistered = []

[[tenants.service_principals]]
id = "5e000000-0000-4000-8000-0000000000e2"
appId = "a1000000-0000-4000-8000-0000000000e2"
displayName = '{HOSTILE_DISPLAY}'
servicePrincipalType = "ManagedIdentity"
accountEnabled = true

[tenants.generator]
users = 300
seed = 16
"#
    );
    Scenario::from_toml_str(&format!("{base}\n{extra}")).expect("scenario parses")
}

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "entrawatch-inventory-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn config(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("entrawatch.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[[tenants]]
name = "contoso"
id = "{TENANT}"
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
credential = {{ type = "secret", secret = "env:ENTRAWATCH_TEST_SECRET" }}
graph_url = "{url}"
login_url = "{url}"
[tenants.break_glass]
accounts = ["0b000000-0000-4000-8000-0000000000b1", "0b000000-0000-4000-8000-0000000000b2"]
[tenants.dormant]
[tenants.workloads]

[state]
backend = "sqlite"
path = "{db}"
"#,
            db = dir.join("state.db").display()
        ),
    )
    .expect("config");
    path
}

fn entrawatch(args: &[&str], config: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--config")
        .arg(config)
        .env("ENTRAWATCH_TEST_SECRET", "demo-secret-not-real")
        .env_remove("ENTRAWATCH_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run entrawatch")
}

async fn run(args: Vec<String>, config: PathBuf) -> Output {
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        entrawatch(&args, &config)
    })
    .await
    .expect("join");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Minimal RFC 4180 reader: fields, quotes doubled inside quoted fields, line breaks inside quotes.
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

/// The `data-count-kind` cells of the HTML counts table: kind → total.
fn html_totals(html: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for piece in html.split("data-count-kind=\"").skip(1) {
        let (kind, rest) = piece.split_once('"').expect("attribute");
        if rest.starts_with(" data-band") {
            continue;
        }
        let number = rest
            .trim_start_matches('>')
            .split('<')
            .next()
            .expect("cell");
        out.insert(kind.to_string(), number.parse().expect("count"));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn inventory_writes_html_csv_and_json_lines_that_agree_and_escape_tenant_text() {
    let emu = Emulator::start(scenario()).await.expect("emulator");
    let dir = workdir("formats");
    let config = config(&dir, &emu.url());
    // A dormant finding held in the state store, as the dormant job records it: it must come first in the HTML.
    let dormant = "0a000000-0000-4000-8000-000000000003";
    let store =
        entrawatch_core::state::sqlite::SqliteStore::open(dir.join("state.db")).expect("db");
    use entrawatch_core::state::FindingStore;
    store
        .put_finding(&entrawatch_core::state::Finding {
            tenant: TENANT.into(),
            job: "dormant".into(),
            key: dormant.into(),
            status: entrawatch_core::state::FindingStatus::Open,
            first_seen: 0,
            last_notified: None,
            resolved_at: None,
            data: serde_json::json!({"subject": {"id": dormant}}),
            expires_at: None,
        })
        .await
        .expect("finding");
    drop(store);

    let mut outputs = BTreeMap::new();
    for format in ["html", "csv", "json"] {
        let path = dir.join(format!("inventory.{format}"));
        let out = run(
            vec![
                "inventory".into(),
                "--format".into(),
                format.into(),
                "--out".into(),
                path.display().to_string(),
            ],
            config.clone(),
        )
        .await;
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(stdout.contains("inventory of contoso: "), "{stdout}");
        assert!(!stdout.contains("demo-secret-not-real"));
        outputs.insert(format, std::fs::read_to_string(&path).expect("written"));
    }

    let records = csv_records(&outputs["csv"]);
    let header = &records[0];
    assert_eq!(header.len(), 17, "{header:?}");
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let rows = &records[1..];
    let mut csv_counts: BTreeMap<String, u64> = BTreeMap::new();
    for r in rows {
        *csv_counts.entry(r[column("kind")].clone()).or_default() += 1;
    }
    // The sample's users, the hostile guest and 300 generated users; its service principals and the managed
    // identity.
    let users = rows
        .iter()
        .filter(|r| matches!(r[0].as_str(), "member" | "guest"))
        .count();
    assert!(users >= 300 + 15, "{users}");
    assert_eq!(csv_counts.get("managed_identity"), Some(&1));
    assert!(csv_counts.get("service_principal").is_some_and(|n| *n >= 2));

    // JSON lines: one object per identity, the same set.
    let json: Vec<serde_json::Value> = outputs["json"]
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(json.len(), rows.len());

    // The HTML's counts are the CSV's.
    let html = &outputs["html"];
    let mut totals = html_totals(html);
    totals.retain(|_, n| *n > 0);
    assert_eq!(totals, csv_counts, "HTML counts equal the CSV's");
    assert!(html.contains(&format!("data-total=\"{}\"", rows.len())));

    // Hostile strings: escaped in the HTML, intact in CSV and JSON.
    assert!(!html.contains(HOSTILE_NAME) && !html.contains("</script><script>alert"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&quot;&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own inline script"
    );
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "nothing from the network"
    );
    let hostile = rows
        .iter()
        .find(|r| r[column("id")] == "0a000000-0000-4000-8000-0000000000e1")
        .expect("the hostile guest");
    assert_eq!(hostile[column("name")], HOSTILE_NAME);
    assert_eq!(hostile[column("kind")], "guest");
    assert_eq!(hostile[column("mfa_registered")], "false");
    assert!(json.iter().any(|j| j["display_name"] == HOSTILE_DISPLAY));

    // Columns filled from each read: privileged roles, MFA methods, findings, credentials.
    let bg1 = rows
        .iter()
        .find(|r| r[column("id")] == "0b000000-0000-4000-8000-0000000000b1")
        .expect("emergency account");
    assert!(
        bg1[column("privileged_roles")].contains("active: Global Administrator"),
        "{bg1:?}"
    );
    let megan = rows
        .iter()
        .find(|r| r[column("id")] == dormant)
        .expect("dormant user");
    assert_eq!(megan[column("findings")], "dormant");
    let backup = rows
        .iter()
        .find(|r| r[column("id")] == "5e000000-0000-4000-8000-000000000001")
        .expect("backup service principal");
    assert_eq!(
        backup[column("credentials")],
        "1",
        "its app registration's secret"
    );
    assert!(!backup[column("nearest_expiry")].is_empty());
    assert!(!backup[column("last_activity")].is_empty());
    assert!(rows.iter().any(|r| !r[column("methods")].is_empty()));
    // Findings first in the HTML table.
    let table = html
        .split("<table id=\"identities\">")
        .nth(1)
        .expect("table");
    let first_row = table.split("<tr data-kind").nth(1).expect("a row");
    assert!(first_row.contains(dormant), "{first_row}");
    assert!(html.contains("The full set is in the CSV and"));

    if let Ok(keep) = std::env::var("ENTRAWATCH_INVENTORY_KEEP") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).expect("keep dir");
        std::fs::write(keep.join("inventory.html"), html).expect("keep html");
        std::fs::write(keep.join("inventory.csv"), &outputs["csv"]).expect("keep csv");
    }
    emu.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_permission_is_a_note_and_its_column_stays_empty() {
    let mut s = scenario();
    s.tenants[0].apps[0]
        .permissions
        .retain(|p| p != "AuditLog.Read.All" && p != "Directory.Read.All");
    let emu = Emulator::start(s).await.expect("emulator");
    let dir = workdir("permission");
    let config = config(&dir, &emu.url());
    let path = dir.join("inventory.csv");
    let out = run(
        vec![
            "inventory".into(),
            "--format".into(),
            "csv".into(),
            "--out".into(),
            path.display().to_string(),
        ],
        config,
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "note: MFA registration empty: the registration report needs AuditLog.Read.All"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("note: last activity empty: signInActivity needs"),
        "{stdout}"
    );
    let records = csv_records(&std::fs::read_to_string(&path).expect("written"));
    let mfa = records[0]
        .iter()
        .position(|h| h == "mfa_registered")
        .expect("column");
    assert!(records[1..].iter().all(|r| r[mfa].is_empty()));
    assert!(records.len() > 300);
    emu.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_file_is_the_tenants_html_report() {
    let emu = Emulator::start(scenario()).await.expect("emulator");
    let dir = workdir("default");
    let config = config(&dir, &emu.url());
    let out = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || {
            Command::new(BIN)
                .args(["inventory", "--config"])
                .arg(&config)
                .current_dir(&dir)
                .env("ENTRAWATCH_TEST_SECRET", "demo-secret-not-real")
                .stdin(Stdio::null())
                .output()
                .expect("run")
        }
    })
    .await
    .expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.join("entrawatch-inventory-contoso.html"))
        .expect("default file");
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Off a terminal, progress is log lines on stderr, as the jobs' (SPEC.md "CLI").
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("progress inventory contoso users: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("progress inventory contoso service principals: "),
        "{stderr}"
    );
    emu.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
