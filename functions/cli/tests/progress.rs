//! Progress of a long `entrawatch run dormant` (SPEC.md "CLI"): a bar on a terminal, progress lines off one.
//!
//! The tenant has 3,000 long-idle users, so the filtered listing takes six pages of 500. The client paces them by
//! Graph's published limits (reports: 5 requests / 10 s), so after five pages the scan honestly waits about ten
//! seconds for the sixth: long enough to see the bar at `2500 of at most 3000 users` with the time the budget
//! says is left, short enough for a test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use entrawatch_emulator::{Emulator, Scenario};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entrawatch");

const SCENARIO: &str = r#"
[throttle]
enabled = false

[[tenants]]
id = "11111111-2222-3333-4444-555555555555"
name = "contoso"
domain = "contoso.onmicrosoft.com"
[[tenants.apps]]
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
secret = "progress-secret-not-real"
[tenants.generator]
users = 3000
seed = 12
guests = 0.0
never_signed_in = 0.0
dormant = 1.0
"#;

/// Runs the child on a pseudo-terminal as its stderr (stdout to the file named first), copies what the
/// terminal showed to our stdout and exits with the child's status.
const ON_A_TERMINAL: &str = r#"
import fcntl, os, struct, subprocess, sys, termios
out_path, argv = sys.argv[1], sys.argv[2:]
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
with open(out_path, "wb") as out:
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=slave)
os.close(slave)
seen = bytearray()
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:  # EIO: the child has closed the terminal
        break
    if not chunk:
        break
    seen += chunk
sys.stdout.buffer.write(bytes(seen))
sys.exit(child.wait())
"#;

struct Tenant {
    emulator: Emulator,
    dir: PathBuf,
}

impl Tenant {
    async fn start(name: &str) -> Tenant {
        let scenario = Scenario::from_toml_str(SCENARIO).unwrap();
        let emulator = Emulator::start(scenario).await.unwrap();
        let dir = std::env::temp_dir().join(format!("entrawatch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Tenant { emulator, dir }
    }

    fn config(&self) -> PathBuf {
        let url = self.emulator.url();
        let text = format!(
            r#"
[[tenants]]
name = "contoso"
id = "11111111-2222-3333-4444-555555555555"
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
credential = {{ type = "secret", secret = "env:PROGRESS_SECRET" }}
graph_url = "{url}"
login_url = "{url}"
[tenants.dormant]

[[sinks]]
name = "console"
type = "stdout"
min_severity = "info"

[state]
backend = "sqlite"
path = "{db}"
"#,
            db = self.dir.join("state.db").display()
        );
        let path = self.dir.join("entrawatch.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    async fn stop(self) {
        self.emulator.stop().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn entrawatch(config: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "dormant", "--output", "json", "--config"])
        .arg(config)
        .env("PROGRESS_SECRET", "progress-secret-not-real")
        .env_remove("ENTRAWATCH_CONFIG")
        .env_remove("ENTRAWATCH_LOG")
        .stdin(Stdio::null());
    cmd
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// `--output json` keeps stdout for alerts: every line is one, and the scan found the idle users.
fn assert_alerts_only(stdout: &str) {
    let types: Vec<String> = stdout
        .lines()
        .map(|l| {
            let alert: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("stdout line is not an alert ({e}): {l}"));
            alert["type"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert!(types.iter().any(|t| t.starts_with("dormant.")), "{types:?}");
}

/// The numbers `N` of every "at most N s left by the Graph budget".
fn budget_seconds(text: &str) -> Vec<u64> {
    text.split("at most ")
        .skip(1)
        .filter_map(|rest| rest.split_once(" s left by the Graph budget"))
        .filter_map(|(n, _)| n.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_scan_on_a_terminal_draws_a_bar_with_counts_rate_and_the_budgets_time_left() {
    let tenant = Tenant::start("progress-tty").await;
    let alerts = tenant.dir.join("stdout.jsonl");
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg(ON_A_TERMINAL)
        .arg(&alerts)
        .arg(BIN)
        .args(entrawatch(&tenant.config()).get_args())
        .env("PROGRESS_SECRET", "progress-secret-not-real")
        .env("TERM", "xterm-256color")
        .env_remove("ENTRAWATCH_CONFIG")
        .env_remove("ENTRAWATCH_LOG")
        .stdin(Stdio::null());
    let run = output(cmd).await;
    let screen = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "{screen}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(screen.contains("dormant contoso ["), "a bar: {screen}");
    assert!(
        screen.contains("2500 of at most 3000 users"),
        "the count while the sixth page waits for the reports window: {screen}"
    );
    assert!(
        screen.contains("/s, at most"),
        "a rate, then the time left: {screen}"
    );
    let budget = budget_seconds(&screen);
    assert!(
        budget.iter().any(|&s| (5..=11).contains(&s)),
        "the budget's ten seconds, not a guess from the first pages' rate: {budget:?}\n{screen}"
    );
    assert!(
        screen.contains("\u{1b}["),
        "drawn with terminal control sequences"
    );
    assert!(screen.contains("users, "), "{screen}");
    assert!(
        screen.contains("done"),
        "the bar shows the end of the scan: {screen}"
    );
    assert!(
        !screen.contains("progress dormant contoso:"),
        "no progress lines on a terminal: {screen}"
    );
    assert_alerts_only(&std::fs::read_to_string(&alerts).unwrap());
    tenant.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_scan_off_a_terminal_logs_progress_lines_and_draws_nothing() {
    let tenant = Tenant::start("progress-log").await;
    let run = output(entrawatch(&tenant.config())).await;
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.split_once("progress dormant contoso: ").map(|(_, p)| p))
        .collect();
    assert!(
        lines.len() >= 3,
        "the first, one while the sixth page waits, the last: {stderr}"
    );
    assert!(
        lines.len() <= 6,
        "at most one every few seconds plus the first and the last: {stderr}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.contains(" of at most 3000 users") || l.contains(" users, ")),
        "{stderr}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/s, ") && l.ends_with(" left by the Graph budget")),
        "a rate and the budget's time left: {stderr}"
    );
    let last = lines.last().unwrap();
    assert!(last.ends_with(", done"), "the final line: {stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\r'),
        "no bar and no colours off a terminal: {stderr:?}"
    );
    assert_alerts_only(&String::from_utf8_lossy(&run.stdout));
    tenant.stop().await;
}
