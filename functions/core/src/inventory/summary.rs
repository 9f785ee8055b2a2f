//! What the HTML page shows, gathered while the rows stream past: counts per kind and activity band, and the
//! most notable identities. Memory is bounded by [`NOTABLE`] rows whatever the tenant's size: a min-heap keeps
//! the top ones and drops the least notable as better ones arrive.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::row::{Band, IdentityRow, Kind};

/// Rows the HTML table holds: the most notable ones (findings first); the full set is in CSV/JSON.
pub const NOTABLE: usize = 1_000;

struct Ranked {
    key: (usize, bool, bool, i64),
    /// Arrival order, so equal rows keep a stable order (the first seen ranks higher).
    seq: Reverse<u64>,
    row: IdentityRow,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.key, self.seq).cmp(&(other.key, other.seq))
    }
}

/// Counts and the notable rows.
pub struct Summary {
    /// `counts[kind][band]`.
    pub counts: [[u64; Band::ALL.len()]; Kind::ALL.len()],
    pub with_findings: u64,
    pub privileged: u64,
    pub users_without_mfa: u64,
    notable: BinaryHeap<Reverse<Ranked>>,
    limit: usize,
    seen: u64,
}

impl Default for Summary {
    fn default() -> Self {
        Summary::with_limit(NOTABLE)
    }
}

impl Summary {
    pub fn with_limit(limit: usize) -> Summary {
        Summary {
            counts: [[0; Band::ALL.len()]; Kind::ALL.len()],
            with_findings: 0,
            privileged: 0,
            users_without_mfa: 0,
            notable: BinaryHeap::new(),
            limit,
            seen: 0,
        }
    }

    pub fn add(&mut self, row: &IdentityRow) {
        self.counts[row.kind().index()][row.band().index()] += 1;
        self.with_findings += u64::from(!row.findings.is_empty());
        self.privileged += u64::from(!row.privileged_roles.is_empty());
        let user = matches!(row.kind(), Kind::Member | Kind::Guest);
        self.users_without_mfa += u64::from(user && row.mfa_registered == Some(false));
        self.seen += 1;
        let ranked = Ranked {
            key: row.notability(),
            seq: Reverse(self.seen),
            row: IdentityRow::default(),
        };
        if self.notable.len() >= self.limit {
            match self.notable.peek() {
                Some(Reverse(least)) if ranked > *least => {
                    self.notable.pop();
                }
                _ => return,
            }
        }
        self.notable.push(Reverse(Ranked {
            row: row.clone(),
            ..ranked
        }));
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    pub fn of_kind(&self, kind: Kind) -> u64 {
        self.counts[kind.index()].iter().sum()
    }

    pub fn of_band(&self, band: Band) -> u64 {
        self.counts.iter().map(|k| k[band.index()]).sum()
    }

    /// The notable rows, most notable first.
    pub fn notable(&self) -> Vec<&IdentityRow> {
        let mut ranked: Vec<&Ranked> = self.notable.iter().map(|Reverse(r)| r).collect();
        ranked.sort_by(|a, b| b.cmp(a));
        ranked.into_iter().map(|r| &r.row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, findings: usize, days: i64) -> IdentityRow {
        IdentityRow {
            id: id.into(),
            kind: Some(Kind::Member),
            findings: (0..findings).map(|_| "dormant".to_string()).collect(),
            days_inactive: Some(days),
            activity_read: true,
            ..IdentityRow::default()
        }
    }

    #[test]
    fn keeps_only_the_most_notable_rows_and_counts_every_one() {
        let mut summary = Summary::with_limit(2);
        for (i, f) in [0, 1, 0, 2, 0].into_iter().enumerate() {
            summary.add(&row(&format!("u{i}"), f, 10));
        }
        let ids: Vec<&str> = summary.notable().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["u3", "u1"]);
        assert_eq!(summary.total(), 5);
        assert_eq!(summary.of_band(Band::Within30), 5);
    }
}
