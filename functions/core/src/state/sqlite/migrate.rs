//! Schema changes for state files written by earlier versions: a user's `entrawatch.db` must
//! keep working across an upgrade.

use rusqlite::Connection;

use super::backend;
use crate::state::StateError;

/// Adds the claim column to a state file written before deliveries were claimed.
pub(super) fn migrate(conn: &Connection) -> Result<(), StateError> {
    let has_claim: bool = conn
        .prepare("SELECT 1 FROM pragma_table_info('deliveries') WHERE name = 'claim_owner'")
        .and_then(|mut s| s.exists([]))
        .map_err(backend)?;
    if !has_claim {
        conn.execute_batch("ALTER TABLE deliveries ADD COLUMN claim_owner TEXT")
            .map_err(backend)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_file_from_before_claims_gains_the_claim_column_and_keeps_its_rows() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE deliveries (alert_id TEXT, sink TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL,
               next_attempt_at INTEGER NOT NULL, last_error TEXT, expires_at INTEGER, PRIMARY KEY (alert_id, sink));
             INSERT INTO deliveries VALUES ('a', 'slack', 'pending', 0, 10, NULL, NULL);",
        )
        .unwrap();
        migrate(&c).unwrap();
        migrate(&c).unwrap();
        let (status, owner): (String, Option<String>) = c
            .query_row(
                "SELECT status, claim_owner FROM deliveries WHERE alert_id = 'a'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((status.as_str(), owner), ("pending", None));
    }
}
