//! A Graph port wrapper serving small pages, so page boundaries fall inside small data sets.

use std::sync::Arc;

use entrawatch_core::graph::GraphPort;

/// A Graph port that serves the sign-ins and audits of another port `size` at a time, with its own
/// next links, so page boundaries fall inside small data sets. Everything else passes through.
pub struct SmallPages {
    pub inner: Arc<dyn GraphPort>,
    pub size: usize,
    pub pages_served: std::sync::atomic::AtomicUsize,
}

impl SmallPages {
    pub fn new(inner: Arc<dyn GraphPort>, size: usize) -> SmallPages {
        SmallPages {
            inner,
            size,
            pages_served: Default::default(),
        }
    }

    /// The whole inner listing (following its links), then the slice at `next_link`'s offset.
    async fn split<T, Fut>(
        &self,
        next_link: Option<&str>,
        mut fetch: impl FnMut(Option<String>) -> Fut,
    ) -> Result<entrawatch_core::graph::Page<T>, entrawatch_core::graph::GraphError>
    where
        Fut: std::future::Future<
            Output = Result<entrawatch_core::graph::Page<T>, entrawatch_core::graph::GraphError>,
        >,
    {
        let offset: usize = next_link
            .and_then(|l| l.strip_prefix("small-pages:"))
            .map_or(0, |n| n.parse().unwrap());
        let mut all = Vec::new();
        let mut link = None;
        loop {
            let page = fetch(link).await?;
            all.extend(page.items);
            match page.next_link {
                Some(l) => link = Some(l),
                None => break,
            }
        }
        self.pages_served
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let total = all.len();
        let end = (offset + self.size).min(total);
        let items: Vec<T> = all.drain(offset.min(end)..end).collect();
        Ok(entrawatch_core::graph::Page::of(
            items,
            (end < total).then(|| format!("small-pages:{end}")),
        ))
    }
}

#[async_trait::async_trait]
impl GraphPort for SmallPages {
    async fn list_users(
        &self,
        query: &entrawatch_core::graph::UserQuery,
        next_link: Option<&str>,
    ) -> Result<
        entrawatch_core::graph::Page<entrawatch_core::graph::model::User>,
        entrawatch_core::graph::GraphError,
    > {
        self.inner.list_users(query, next_link).await
    }
    async fn get_user(
        &self,
        id: &str,
    ) -> Result<Option<entrawatch_core::graph::model::User>, entrawatch_core::graph::GraphError>
    {
        self.inner.get_user(id).await
    }
    async fn list_sign_ins(
        &self,
        query: &entrawatch_core::graph::SignInQuery,
        next_link: Option<&str>,
    ) -> Result<
        entrawatch_core::graph::Page<entrawatch_core::graph::model::SignIn>,
        entrawatch_core::graph::GraphError,
    > {
        self.split(next_link, |l| {
            let inner = self.inner.clone();
            let query = query.clone();
            async move { inner.list_sign_ins(&query, l.as_deref()).await }
        })
        .await
    }
    async fn list_directory_audits(
        &self,
        query: &entrawatch_core::graph::AuditQuery,
        next_link: Option<&str>,
    ) -> Result<
        entrawatch_core::graph::Page<entrawatch_core::graph::model::DirectoryAudit>,
        entrawatch_core::graph::GraphError,
    > {
        self.split(next_link, |l| {
            let inner = self.inner.clone();
            let query = query.clone();
            async move { inner.list_directory_audits(&query, l.as_deref()).await }
        })
        .await
    }
    async fn list_role_assignments(
        &self,
        next_link: Option<&str>,
    ) -> Result<
        entrawatch_core::graph::Page<entrawatch_core::graph::model::RoleAssignment>,
        entrawatch_core::graph::GraphError,
    > {
        self.inner.list_role_assignments(next_link).await
    }
    async fn list_role_eligibility_schedules(
        &self,
        next_link: Option<&str>,
    ) -> Result<
        entrawatch_core::graph::Page<entrawatch_core::graph::model::RoleEligibilitySchedule>,
        entrawatch_core::graph::GraphError,
    > {
        self.inner.list_role_eligibility_schedules(next_link).await
    }
    async fn list_group_members(
        &self,
        group_id: &str,
        next_link: Option<&str>,
    ) -> Result<
        entrawatch_core::graph::Page<entrawatch_core::graph::model::DirectoryObject>,
        entrawatch_core::graph::GraphError,
    > {
        self.inner.list_group_members(group_id, next_link).await
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
