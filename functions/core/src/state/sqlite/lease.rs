//! Leases of the SQLite adapter: taken inside `BEGIN IMMEDIATE`, so two runs cannot both pass
//! the "free or expired" check.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{backend, SqliteStore};
use crate::state::{Lease, LeaseStore, StateError};

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn acquire_lease(
        &self,
        tenant: &str,
        job: &str,
        owner: &str,
        now: i64,
        ttl_secs: i64,
    ) -> Result<Lease, StateError> {
        self.take_lease(tenant, job, owner, now, ttl_secs, false)
            .await
    }

    async fn renew_lease(
        &self,
        tenant: &str,
        job: &str,
        owner: &str,
        now: i64,
        ttl_secs: i64,
    ) -> Result<Lease, StateError> {
        self.take_lease(tenant, job, owner, now, ttl_secs, true)
            .await
    }

    async fn release_lease(&self, tenant: &str, job: &str, owner: &str) -> Result<(), StateError> {
        let (tenant, job, owner) = (tenant.to_string(), job.to_string(), owner.to_string());
        self.with(move |c| {
            c.execute(
                "DELETE FROM leases WHERE tenant = ?1 AND job = ?2 AND owner = ?3",
                params![tenant, job, owner],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }
}

impl SqliteStore {
    async fn take_lease(
        &self,
        tenant: &str,
        job: &str,
        owner: &str,
        now: i64,
        ttl: i64,
        renewing: bool,
    ) -> Result<Lease, StateError> {
        let (tenant, job, owner) = (tenant.to_string(), job.to_string(), owner.to_string());
        self.with(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let current: Option<(String, i64)> = tx
                .query_row(
                    "SELECT owner, until FROM leases WHERE tenant = ?1 AND job = ?2",
                    params![tenant, job],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(backend)?;
            if let Some((holder, until)) = current {
                let free = if renewing {
                    holder == owner
                } else {
                    holder == owner || until <= now
                };
                if !free {
                    return Err(StateError::LeaseHeld { holder, until });
                }
            } else if renewing {
                return Err(StateError::LeaseHeld {
                    holder: "nobody (the lease was released or lost)".into(),
                    until: now,
                });
            }
            let until = now + ttl;
            tx.execute(
                "INSERT OR REPLACE INTO leases (tenant, job, owner, until) VALUES (?1, ?2, ?3, ?4)",
                params![tenant, job, owner, until],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(Lease { owner, until })
        })
        .await
    }
}
