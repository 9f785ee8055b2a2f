//! What the demo prints: the lines a person reads, each alert once, then what the runs demonstrated and the next
//! step. Everything here is computed from the runs' summaries and the alert file, never written in advance.

use std::collections::HashSet;
use std::path::Path;

use entrawatch_core::alert::{severity_name, Alert};
use entrawatch_core::jobs::RunSummary;

use crate::commands::run::result_line;
use crate::OutputFormat;

/// Where the demo's lines go: stdout, or stderr when stdout carries `--output json` alerts.
#[derive(Clone, Copy)]
pub struct Teller(pub OutputFormat);

impl Teller {
    pub fn say(&self, line: impl AsRef<str>) {
        match self.0 {
            OutputFormat::Json => eprintln!("{}", line.as_ref()),
            OutputFormat::Text => println!("{}", line.as_ref()),
        }
    }

    /// One line per job and each alert the run delivered, once.
    pub fn run(&self, summary: &RunSummary) {
        for r in &summary.results {
            self.say(format!("  {}", result_line(r)));
        }
        let mut shown = HashSet::new();
        for alert in delivered(summary) {
            if !shown.insert(alert.id.as_str()) {
                continue;
            }
            match self.0 {
                OutputFormat::Json => println!("{}", alert.to_json()),
                OutputFormat::Text => println!("    {}", alert_line(alert)),
            }
        }
    }
}

/// Every alert a run delivered (to any sink).
pub fn delivered(summary: &RunSummary) -> impl Iterator<Item = &Alert> {
    summary
        .dispatch
        .iter()
        .flat_map(|d| d.delivered.iter().map(|(_, alert)| alert))
}

pub fn alert_line(alert: &Alert) -> String {
    format!(
        "[{}] {}: {}",
        severity_name(alert.severity),
        alert.kind,
        alert.title
    )
}

/// What the alert file holds: the number of alerts written and of distinct ids among them.
pub struct AlertFile {
    pub written: usize,
    pub distinct: usize,
}

impl AlertFile {
    pub fn read(path: &Path) -> anyhow::Result<AlertFile> {
        let text = std::fs::read_to_string(path)?;
        let mut ids = HashSet::new();
        let mut written = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let value: serde_json::Value = serde_json::from_str(line)?;
            written += 1;
            let id = value
                .pointer("/data/id")
                .or_else(|| value.get("id"))
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            ids.insert(id);
        }
        Ok(AlertFile {
            written,
            distinct: ids.len(),
        })
    }
}
