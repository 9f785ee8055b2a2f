//! The `entrawatch` binary end to end, against the emulator on loopback.

use std::process::{Command, Output, Stdio};

use entrawatch_emulator::{Emulator, Scenario, TokenVersion};

const BIN: &str = env!("CARGO_BIN_EXE_entrawatch");

/// Four tenants, one per problem `config check` must name, plus one that works.
const SCENARIO: &str = r#"
[throttle]
enabled = false

[[tenants]]
id = "10000000-0000-0000-0000-000000000001"
name = "good"
domain = "good.onmicrosoft.com"
[[tenants.apps]]
client_id = "a0000000-0000-0000-0000-000000000001"
secret = "right-secret"
[[tenants.users]]
id = "0b000000-0000-4000-8000-0000000000b1"
userPrincipalName = "bg1@good.onmicrosoft.com"
displayName = "Break Glass 1"
userType = "Member"
accountEnabled = true
createdDateTime = "-400d"

[[tenants]]
id = "10000000-0000-0000-0000-000000000002"
name = "free"
domain = "free.onmicrosoft.com"
premium = false
[[tenants.apps]]
client_id = "a0000000-0000-0000-0000-000000000002"
secret = "right-secret"

[[tenants]]
id = "10000000-0000-0000-0000-000000000003"
name = "noaudit"
domain = "noaudit.onmicrosoft.com"
[[tenants.apps]]
client_id = "a0000000-0000-0000-0000-000000000003"
secret = "right-secret"
permissions = ["User.Read.All", "Directory.Read.All", "RoleManagement.Read.Directory"]

[[tenants]]
id = "10000000-0000-0000-0000-000000000004"
name = "badsecret"
domain = "badsecret.onmicrosoft.com"
[[tenants.apps]]
client_id = "a0000000-0000-0000-0000-000000000004"
secret = "right-secret"
"#;

fn tenant_block(n: u32, name: &str, url: &str, secret_env: &str, break_glass: &str) -> String {
    format!(
        r#"
[[tenants]]
name = "{name}"
id = "10000000-0000-0000-0000-00000000000{n}"
client_id = "a0000000-0000-0000-0000-00000000000{n}"
credential = {{ type = "secret", secret = "env:{secret_env}" }}
graph_url = "{url}"
login_url = "{url}"
{break_glass}
"#
    )
}

fn entrawatch(args: &[&str], config: Option<&std::path::Path>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("ENTRAWATCH_RIGHT_SECRET", "right-secret")
        .env("ENTRAWATCH_WRONG_SECRET", "wrong-secret-value-x")
        .env_remove("ENTRAWATCH_CONFIG")
        .stdin(Stdio::null());
    if let Some(path) = config {
        cmd.arg("--config").arg(path);
    }
    cmd.output().expect("run entrawatch")
}

fn write_config(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("entrawatch-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("entrawatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The demo's alert lines (`    [severity] type: title`), in order.
fn demo_alerts(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("    [") && l.contains("] "))
        .map(str::trim)
        .collect()
}

#[test]
fn demo_runs_every_job_and_alerts_the_late_sign_in_once() {
    let out = entrawatch(&["demo"], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let (run1, rest) = stdout
        .split_once("\nrun 2: ")
        .unwrap_or_else(|| panic!("run 2: {stdout}"));
    let (run2, run3) = rest
        .split_once("\nrun 3: ")
        .unwrap_or_else(|| panic!("run 3: {stdout}"));
    let count = |text: &str, kind: &str| {
        demo_alerts(text)
            .iter()
            .filter(|l| l.contains(&format!("] {kind}: ")))
            .count()
    };
    // The sample tenant: bg1 signed in, bg2 failed a non-interactive sign-in, two changes to bg1,
    // and dormant accounts in one digest; bg2's sign-in whose row is not yet published, from signInActivity.
    assert_eq!(count(run1, "break_glass.sign_in"), 2, "{run1}");
    assert!(
        run1.contains(
            "[critical] break_glass.sign_in: Emergency account bg2@contoso.onmicrosoft.com signed in (from \
             signInActivity; the sign-in log row is not yet available)"
        ),
        "{run1}"
    );
    assert_eq!(count(run1, "break_glass.sign_in_failed"), 1, "{run1}");
    assert_eq!(count(run1, "break_glass.account_changed"), 2, "{run1}");
    assert_eq!(count(run1, "dormant.digest"), 1, "{run1}");
    // The workloads job: the backup app's secret, 12 days from expiry.
    assert_eq!(count(run1, "workload.credential_expiring"), 1, "{run1}");
    // Posture: the administrators' device policy excludes bg1 but not bg2 (the phishing-resistant policy and
    // the report-only one alert nothing).
    assert_eq!(count(run1, "break_glass.posture"), 1, "{run1}");
    assert!(
        run1.contains(
            "Emergency account 0b000000-0000-4000-8000-0000000000b2 is not excluded from Conditional Access \
             policy Require compliant device for administrators"
        ),
        "{run1}"
    );
    assert!(
        run1.contains("Emergency account bg1@contoso.onmicrosoft.com signed in"),
        "{run1}"
    );
    // Run 2: the late row arrives and adds nothing (alerted in run 1 under its id); the dormant account that
    // signed in after run 1 is alerted by the frequent run's watch. Run 3: nothing.
    assert_eq!(
        demo_alerts(run2),
        vec!["[high] dormant.reactivated: Dormant account megan.bowen@contoso.onmicrosoft.com signed in"],
        "{run2}"
    );
    let (run3, showed) = run3.split_once("\nwhat this showed:").expect("summary");
    assert_eq!(demo_alerts(run3), Vec::<&str>::new(), "{run3}");
    // Each alert once on stdout: the lines above are the only place an alert appears.
    let all = demo_alerts(&stdout);
    assert_eq!(all.len(), 9, "{stdout}");
    let distinct: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(
        distinct.len(),
        all.len(),
        "an alert printed twice: {stdout}"
    );
    assert!(
        showed.contains(
            "nothing alerted twice: 9 alert(s) in the sink, 9 distinct id(s); run 3 added 0"
        ),
        "{showed}"
    );
    assert!(
        showed.contains("alerted before the row from signInActivity")
            && showed.contains("added nothing"),
        "{showed}"
    );
    assert!(showed.contains("entrawatch.example.toml"), "{showed}");
    // It ends by writing the sample tenant's inventory and printing its path (issue 16).
    let inventory = showed
        .lines()
        .find_map(|l| l.strip_prefix("last: inventory of contoso: "))
        .unwrap_or_else(|| panic!("no inventory line: {showed}"));
    assert!(
        inventory.contains(" members, 2 guests, 2 service principals"),
        "{inventory}"
    );
    let path = inventory.rsplit_once(" -> ").expect("a path").1;
    let html = std::fs::read_to_string(path).expect("the inventory file is there");
    assert!(
        html.contains("<h1>Identities of contoso</h1>") && html.contains("id=\"activity-chart\"")
    );
    // No log line anywhere unless ENTRAWATCH_LOG asks: stderr is empty, stdout has no level names.
    assert_eq!(stderr, "", "log lines on stderr");
    for level in ["INFO", "WARN", "DEBUG", "ERROR"] {
        assert!(!stdout.contains(level), "{level} in stdout: {stdout}");
    }
    assert!(!stdout.contains("demo-secret-not-real") && !stderr.contains("demo-secret-not-real"));
}

#[test]
fn demo_logs_only_when_entrawatch_log_asks() {
    let out = Command::new(BIN)
        .arg("demo")
        .env("ENTRAWATCH_LOG", "info")
        .env_remove("ENTRAWATCH_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run entrawatch");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("INFO"),
        "ENTRAWATCH_LOG=info shows logs: {stderr}"
    );
    assert!(!stderr.contains("demo-secret-not-real"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn config_check_names_each_problem_and_fails() {
    let emu = Emulator::start(Scenario::from_toml_str(SCENARIO).unwrap())
        .await
        .unwrap();
    let url = emu.url();
    let bg = "[tenants.break_glass]\naccounts = [\"0b000000-0000-4000-8000-0000000000b1\", \"0b000000-0000-4000-8000-0000000000b9\"]";
    let text = [
        tenant_block(1, "good", &url, "ENTRAWATCH_RIGHT_SECRET", bg),
        // Dormant-only: no emergency account to exclude, which config check warns about (issue 14).
        tenant_block(
            2,
            "free",
            &url,
            "ENTRAWATCH_RIGHT_SECRET",
            "[tenants.dormant]",
        ),
        tenant_block(3, "noaudit", &url, "ENTRAWATCH_RIGHT_SECRET", ""),
        tenant_block(4, "badsecret", &url, "ENTRAWATCH_WRONG_SECRET", ""),
    ]
    .concat();
    let path = write_config("problems", &text);
    let out = tokio::task::spawn_blocking(move || entrawatch(&["config", "check"], Some(&path)))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    // The good tenant passes every probe but names the emergency account that does not exist.
    assert!(
        stdout.contains("  ok    users with signInActivity"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  FAIL  emergency account 0b000000-0000-4000-8000-0000000000b9: no such user in the tenant"),
        "{stdout}"
    );
    assert!(stdout.contains("needs Entra ID P1 or P2"), "{stdout}");
    assert_eq!(
        stdout
            .matches("  warn  no emergency accounts configured for this tenant")
            .count(),
        1,
        "only the dormant-only tenant: {stdout}"
    );
    assert!(stdout.contains("AuditLog.Read.All"), "{stdout}");
    assert!(stdout.contains("AADSTS7000215"), "{stdout}");
    assert!(stderr.contains("config check: "), "{stderr}");
    assert!(stderr.contains("problem(s) found"), "{stderr}");
    for secret in ["right-secret", "wrong-secret-value-x"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "secret leaked"
        );
    }
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn config_check_passes_on_a_working_tenant() {
    let emu = Emulator::start(Scenario::from_toml_str(SCENARIO).unwrap())
        .await
        .unwrap();
    let bg = "[tenants.break_glass]\naccounts = [\"0b000000-0000-4000-8000-0000000000b1\"]";
    let path = write_config(
        "good",
        &tenant_block(1, "good", &emu.url(), "ENTRAWATCH_RIGHT_SECRET", bg),
    );
    let out = tokio::task::spawn_blocking(move || entrawatch(&["config", "check"], Some(&path)))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("config check: everything works"),
        "{stdout}"
    );
    emu.stop().await;
}

#[test]
fn config_check_reports_a_missing_secret_variable_by_name() {
    let text = tenant_block(
        1,
        "good",
        "http://127.0.0.1:9",
        "ENTRAWATCH_UNSET_VARIABLE",
        "",
    );
    let path = write_config("unset", &text);
    let out = entrawatch(&["config", "check"], Some(&path));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("FAIL  credential: tenant good: credential env:ENTRAWATCH_UNSET_VARIABLE: environment variable ENTRAWATCH_UNSET_VARIABLE is not set"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_validate_accepts_a_minted_token_and_refuses_a_wrong_audience() {
    let emu = Emulator::start(Scenario::from_toml_str(SCENARIO).unwrap())
        .await
        .unwrap();
    let tid = "10000000-0000-0000-0000-000000000001";
    let token = emu.mint_access_token(
        tid,
        serde_json::json!({"aud": "api://entrawatch-test", "oid": "0b000000-0000-4000-8000-0000000000b1",
                           "tid": tid, "scp": "Alerts.Read", "azp": "a0000000-0000-0000-0000-000000000001"}),
        TokenVersion::V2,
    );
    let config = write_config(
        "token",
        &tenant_block(1, "good", &emu.url(), "ENTRAWATCH_RIGHT_SECRET", ""),
    );
    let run = move |aud: &'static str, token: String, config: std::path::PathBuf| {
        entrawatch(
            &["token", "validate", "--audience", aud, &token],
            Some(&config),
        )
    };
    let (t, c) = (token.clone(), config.clone());
    let ok = tokio::task::spawn_blocking(move || run("api://entrawatch-test", t, c))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let verdict: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(verdict["ok"], true);
    assert_eq!(
        verdict["principal"]["oid"],
        "0b000000-0000-4000-8000-0000000000b1"
    );

    let bad = tokio::task::spawn_blocking(move || run("api://someone-else", token, config))
        .await
        .unwrap();
    assert!(!bad.status.success());
    let verdict: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(verdict["code"], "audience_invalid");
    emu.stop().await;
}

#[test]
fn emulator_command_refuses_a_non_loopback_address() {
    let out = entrawatch(&["emulator", "--addr", "0.0.0.0:8080"], None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:8080"),
        "{stderr}"
    );
}

#[test]
fn run_with_a_missing_config_file_names_the_file() {
    let out = entrawatch(
        &["run", "break-glass"],
        Some(std::path::Path::new("/nonexistent.toml")),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent.toml"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one clear line: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn emulator_command_serves_token_and_paged_users_like_graph() {
    use std::io::{BufRead, BufReader};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(BIN)
        .args(["emulator", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        line.trim(),
        format!("entrawatch emulator listening on {base}")
    );

    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!(
            "{base}/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token"
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "aaaaaaaa-bbbb-cccc-dddd-000000000001"),
            ("client_secret", "demo-secret-not-real"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["token_type"], "Bearer");
    let bearer = token["access_token"].as_str().unwrap().to_string();
    let mut next = Some(format!(
        "{base}/v1.0/users?$select=id,signInActivity&$top=5"
    ));
    let mut seen = std::collections::HashSet::new();
    while let Some(url) = next {
        let page: serde_json::Value = http
            .get(&url)
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(page["@odata.context"]
            .as_str()
            .unwrap()
            .contains("$metadata#users"));
        let items = page["value"].as_array().unwrap();
        assert!(items.len() <= 5);
        for u in items {
            assert!(
                seen.insert(u["id"].as_str().unwrap().to_string()),
                "user repeated across pages"
            );
        }
        next = page["@odata.nextLink"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len(), 16);
    child.kill().unwrap();
    let _ = child.wait();
}
