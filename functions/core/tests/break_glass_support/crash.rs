//! Crash injection for the break-glass tests: wrappers that panic right after a step, so the
//! task running the job dies there (nothing after it runs) and the next run starts from fresh
//! store handles, as a new process or Lambda invocation would.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use entrawatch_core::alert::Alert;
use entrawatch_core::graph::model::{
    DirectoryAudit, DirectoryObject, RoleAssignment, RoleEligibilitySchedule, SignIn, User,
};
use entrawatch_core::graph::{AuditQuery, GraphError, GraphPort, Page, SignInQuery, UserQuery};
use entrawatch_core::sinks::{Sink, SinkError};
use entrawatch_core::state::{
    Delivery, DeliveryKey, OutboxStore, PendingReport, Recorded, StateError,
};

use super::SmallPages;

/// Dies right after Graph served the `crash_at`-th log page, before the job sees it.
pub struct CrashAfterFetch {
    pub inner: SmallPages,
    pub crash_at: usize,
    pub fetched: AtomicUsize,
}

impl CrashAfterFetch {
    fn fetched(&self) {
        if self.fetched.fetch_add(1, Ordering::SeqCst) + 1 == self.crash_at {
            panic!("injected crash after fetching page {}", self.crash_at);
        }
    }
}

#[async_trait]
impl GraphPort for CrashAfterFetch {
    async fn list_users(&self, q: &UserQuery, n: Option<&str>) -> Result<Page<User>, GraphError> {
        self.inner.list_users(q, n).await
    }
    async fn get_user(&self, id: &str) -> Result<Option<User>, GraphError> {
        self.inner.get_user(id).await
    }
    async fn list_sign_ins(
        &self,
        q: &SignInQuery,
        n: Option<&str>,
    ) -> Result<Page<SignIn>, GraphError> {
        let page = self.inner.list_sign_ins(q, n).await;
        self.fetched();
        page
    }
    async fn list_directory_audits(
        &self,
        q: &AuditQuery,
        n: Option<&str>,
    ) -> Result<Page<DirectoryAudit>, GraphError> {
        let page = self.inner.list_directory_audits(q, n).await;
        self.fetched();
        page
    }
    async fn list_role_assignments(
        &self,
        n: Option<&str>,
    ) -> Result<Page<RoleAssignment>, GraphError> {
        self.inner.list_role_assignments(n).await
    }
    async fn list_role_eligibility_schedules(
        &self,
        n: Option<&str>,
    ) -> Result<Page<RoleEligibilitySchedule>, GraphError> {
        self.inner.list_role_eligibility_schedules(n).await
    }
    async fn list_group_members(
        &self,
        g: &str,
        n: Option<&str>,
    ) -> Result<Page<DirectoryObject>, GraphError> {
        self.inner.list_group_members(g, n).await
    }

    async fn list_role_definitions(
        &self,
        next: Option<&str>,
    ) -> Result<
        entrawatch_core::graph::Page<entrawatch_core::graph::model::RoleDefinition>,
        entrawatch_core::graph::GraphError,
    > {
        self.inner.list_role_definitions(next).await
    }
    async fn list_group_eligibility_schedules(
        &self,
        group: &str,
        next: Option<&str>,
    ) -> Result<
        entrawatch_core::graph::Page<entrawatch_core::graph::model::GroupEligibilitySchedule>,
        entrawatch_core::graph::GraphError,
    > {
        self.inner
            .list_group_eligibility_schedules(group, next)
            .await
    }
}

/// Dies right after the `crash_at`-th alert was durably recorded.
pub struct CrashAfterRecord {
    pub inner: Arc<dyn OutboxStore>,
    pub crash_at: usize,
    pub writes: AtomicUsize,
}

#[async_trait]
impl OutboxStore for CrashAfterRecord {
    async fn record(
        &self,
        alert: &Alert,
        sinks: &[String],
        now: i64,
    ) -> Result<Recorded, StateError> {
        let r = self.inner.record(alert, sinks, now).await?;
        if self.writes.fetch_add(1, Ordering::SeqCst) + 1 == self.crash_at {
            panic!("injected crash after outbox write {}", self.crash_at);
        }
        Ok(r)
    }
    async fn due(&self, now: i64, limit: usize) -> Result<Vec<Delivery>, StateError> {
        self.inner.due(now, limit).await
    }
    async fn deliveries(&self, id: &str) -> Result<Vec<Delivery>, StateError> {
        self.inner.deliveries(id).await
    }
    async fn claim(
        &self,
        key: &DeliveryKey,
        owner: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<Delivery>, StateError> {
        self.inner.claim(key, owner, now, until).await
    }
    async fn mark_sent(&self, key: &DeliveryKey, owner: &str, now: i64) -> Result<(), StateError> {
        self.inner.mark_sent(key, owner, now).await
    }
    async fn reschedule(
        &self,
        key: &DeliveryKey,
        owner: &str,
        attempts: u32,
        next: i64,
        error: &str,
    ) -> Result<(), StateError> {
        self.inner
            .reschedule(key, owner, attempts, next, error)
            .await
    }
    async fn mark_failed(
        &self,
        key: &DeliveryKey,
        owner: &str,
        attempts: u32,
        reason: &str,
        now: i64,
    ) -> Result<(), StateError> {
        self.inner
            .mark_failed(key, owner, attempts, reason, now)
            .await
    }
    async fn pending_report(
        &self,
        recorded_before: i64,
        limit: usize,
    ) -> Result<PendingReport, StateError> {
        self.inner.pending_report(recorded_before, limit).await
    }
}

/// Sends, then dies before the dispatcher can mark the delivery sent.
pub struct CrashAfterSend(pub Arc<dyn Sink>);

#[async_trait]
impl Sink for CrashAfterSend {
    fn name(&self) -> &str {
        self.0.name()
    }
    async fn send(&self, alert: &Alert) -> Result<(), SinkError> {
        self.0.send(alert).await?;
        panic!("injected crash after send")
    }
}
