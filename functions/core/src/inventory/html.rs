//! The HTML report: one self-contained file (no external script, style, font or image; nothing fetched at view
//! time), with counts per kind and activity band, an inline SVG chart of days since last activity per kind, and
//! a sortable, filterable table of the most notable identities (the full set is in CSV/JSON).
//!
//! Every string from the tenant goes through [`escape`]; the script holds no tenant data (it reads the table),
//! and the Content-Security-Policy allows only that script by its hash, so markup smuggled into a name could not
//! run even if it escaped.

use std::io::{self, Write};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use super::row::{Band, IdentityRow, Kind};
use super::summary::Summary;

const SCRIPT: &str = include_str!("page.js");
const STYLE: &str = include_str!("page.css");

/// HTML text and attribute escaping (the five characters the HTML spec's serialisation escapes, plus `'`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn date(at: Option<DateTime<Utc>>) -> String {
    at.map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// What the page says besides the counts.
pub struct PageInfo<'a> {
    pub tenant_name: &'a str,
    pub tenant_id: &'a str,
    pub generated: DateTime<Utc>,
    pub notes: &'a [String],
}

pub fn write_page(out: &mut dyn Write, info: &PageInfo<'_>, summary: &Summary) -> io::Result<()> {
    let hash = B64.encode(Sha256::digest(SCRIPT.as_bytes()));
    let name = escape(info.tenant_name);
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
         script-src 'sha256-{hash}'\">"
    )?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width\">"
    )?;
    writeln!(
        out,
        "<title>entrawatch inventory: {name}</title><style>{STYLE}</style></head><body>"
    )?;
    writeln!(out, "<h1>Identities of {name}</h1>")?;
    writeln!(
        out,
        "<p class=\"meta\">Tenant {} &middot; generated {} by <code>entrawatch inventory</code> &middot; \
         <span data-total=\"{total}\">{total}</span> identities</p>",
        escape(info.tenant_id),
        date(Some(info.generated)),
        total = summary.total()
    )?;
    for note in info.notes {
        writeln!(out, "<p class=\"note\">Note: {}</p>", escape(note))?;
    }
    counts(out, summary)?;
    chart(out, summary)?;
    table(out, summary)?;
    writeln!(out, "<script>{SCRIPT}</script></body></html>")
}

fn counts(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    writeln!(
        out,
        "<h2>Counts by kind and days since last successful activity</h2>"
    )?;
    write!(
        out,
        "<table id=\"counts\"><thead><tr><th>kind</th><th>total</th>"
    )?;
    for band in Band::ALL {
        write!(out, "<th>{}</th>", band.label())?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    for kind in Kind::ALL {
        let k = kind.as_str();
        write!(
            out,
            "<tr><th>{k}</th><td class=\"n\" data-count-kind=\"{k}\">{}</td>",
            summary.of_kind(kind)
        )?;
        for band in Band::ALL {
            write!(
                out,
                "<td class=\"n\" data-count-kind=\"{k}\" data-band=\"{}\">{}</td>",
                band.label(),
                summary.counts[kind.index()][band.index()]
            )?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(
        out,
        "</tbody></table><p class=\"meta\">{} with open findings, {} privileged, {} users without MFA registered.</p>",
        summary.with_findings, summary.privileged, summary.users_without_mfa
    )
}

/// Grouped bars: one group per activity band, one bar per kind, heights on one linear scale.
fn chart(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    const W: usize = 720;
    const H: usize = 220;
    const TOP: usize = 20;
    const BASE: usize = 180;
    let max = summary
        .counts
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let group = W / Band::ALL.len();
    let bar = (group - 20) / Kind::ALL.len();
    writeln!(
        out,
        "<h2>Days since last successful activity, per kind</h2>"
    )?;
    writeln!(
        out,
        "<svg id=\"activity-chart\" role=\"img\" aria-label=\"identities per activity band and kind\" \
         width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" xmlns=\"http://www.w3.org/2000/svg\">"
    )?;
    writeln!(
        out,
        "<line x1=\"0\" y1=\"{BASE}\" x2=\"{W}\" y2=\"{BASE}\" stroke=\"#8c959f\"/>"
    )?;
    for band in Band::ALL {
        let x0 = band.index() * group + 10;
        for kind in Kind::ALL {
            let n = summary.counts[kind.index()][band.index()];
            let h = (n as f64 / max as f64 * (BASE - TOP) as f64).round() as usize;
            let h = if n > 0 { h.max(1) } else { 0 };
            writeln!(
                out,
                "<rect class=\"kind-{k}\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\"><title>{k}, {b}: {n}</title></rect>",
                k = kind.as_str(),
                x = x0 + kind.index() * bar,
                y = BASE - h,
                w = bar.saturating_sub(2),
                b = band.label()
            )?;
        }
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
            x0 + (group - 20) / 2,
            BASE + 18,
            band.label()
        )?;
    }
    writeln!(
        out,
        "<text x=\"0\" y=\"12\" font-size=\"11\" fill=\"#57606a\">max {max}</text></svg>"
    )?;
    write!(out, "<p class=\"legend\">")?;
    for kind in Kind::ALL {
        write!(
            out,
            "<span class=\"kind-{k}\"></span>{k}",
            k = kind.as_str()
        )?;
    }
    writeln!(out, "</p>")
}

fn cell(out: &mut dyn Write, text: &str) -> io::Result<()> {
    write!(out, "<td>{}</td>", escape(text))
}

fn table(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let rows = summary.notable();
    writeln!(
        out,
        "<h2>Most notable identities</h2><p class=\"meta\">The {} most notable of {} identities: open findings \
         first, then privileged ones, users without MFA, and the longest inactive. The full set is in the CSV and \
         JSON formats (<code>entrawatch inventory --format csv</code> or <code>--format json</code>).</p>",
        rows.len(),
        summary.total()
    )?;
    write!(
        out,
        "<div class=\"controls\"><label>Filter <input id=\"filter\" type=\"search\" placeholder=\"name, role, \
         finding...\"></label><label>Kind <select id=\"kind\"><option value=\"\">all</option>"
    )?;
    for kind in Kind::ALL {
        write!(out, "<option value=\"{k}\">{k}</option>", k = kind.as_str())?;
    }
    writeln!(
        out,
        "</select></label><span><span id=\"shown\">{}</span> shown</span></div>",
        rows.len()
    )?;
    writeln!(
        out,
        "<table id=\"identities\"><thead><tr><th>kind</th><th>name</th><th>findings</th><th>privileged roles</th>\
         <th data-type=\"number\">days inactive</th><th>last activity</th><th>enabled</th><th>MFA</th>\
         <th>methods</th><th data-type=\"number\">credentials</th><th>nearest expiry</th><th>synced</th>\
         <th>object id</th></tr></thead><tbody>"
    )?;
    for row in rows {
        row_html(out, row)?;
    }
    writeln!(out, "</tbody></table>")
}

fn row_html(out: &mut dyn Write, row: &IdentityRow) -> io::Result<()> {
    let yes_no = |v: Option<bool>| {
        v.map_or(
            String::new(),
            |b| if b { "yes".into() } else { "no".into() },
        )
    };
    write!(out, "<tr data-kind=\"{}\">", row.kind().as_str())?;
    cell(out, row.kind().as_str())?;
    let title = row.display_name.as_deref().unwrap_or_default();
    write!(
        out,
        "<td title=\"{}\">{}</td>",
        escape(title),
        escape(&row.name)
    )?;
    write!(
        out,
        "<td class=\"finding\">{}</td>",
        escape(&row.findings.join("; "))
    )?;
    cell(out, &row.privileged_roles.join("; "))?;
    let days = row.days_inactive.map(|d| d.to_string()).unwrap_or_default();
    let never = if row.activity_read { "never" } else { "" };
    write!(
        out,
        "<td class=\"n\" data-sort=\"{}\">{}</td>",
        row.days_inactive
            .map_or(if row.activity_read { 1e9 } else { -1.0 }, |d| d as f64),
        if days.is_empty() {
            never.to_string()
        } else {
            days
        }
    )?;
    cell(out, &date(row.last_activity))?;
    cell(out, &yes_no(row.enabled))?;
    cell(out, &yes_no(row.mfa_registered))?;
    cell(out, &row.methods.join(", "))?;
    write!(
        out,
        "<td class=\"n\">{}</td>",
        row.credentials.map(|c| c.to_string()).unwrap_or_default()
    )?;
    cell(out, &date(row.nearest_expiry))?;
    cell(out, &yes_no(row.synced))?;
    cell(out, &row.id)?;
    writeln!(out, "</tr>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_escaped_everywhere_they_appear() {
        let mut summary = Summary::default();
        summary.add(&IdentityRow {
            kind: Some(Kind::Guest),
            id: "u1".into(),
            name: "<img src=x onerror=alert(1)>".into(),
            display_name: Some("\"</script><script>alert(2)</script>".into()),
            findings: vec!["dormant".into()],
            ..IdentityRow::default()
        });
        let mut out = Vec::new();
        let info = PageInfo {
            tenant_name: "<b>contoso</b>",
            tenant_id: "t",
            generated: Utc::now(),
            notes: &["needs <AuditLog.Read.All>".to_string()],
        };
        write_page(&mut out, &info, &summary).expect("write");
        let page = String::from_utf8(out).expect("utf-8");
        assert!(!page.contains("<img"));
        assert!(!page.contains("<b>contoso"));
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(page.contains("&quot;&lt;/script&gt;&lt;script&gt;"));
        assert_eq!(
            page.matches("<script>").count(),
            1,
            "only the page's own script"
        );
        assert!(!page.contains(" src=\""), "nothing loaded from elsewhere");
    }
}
