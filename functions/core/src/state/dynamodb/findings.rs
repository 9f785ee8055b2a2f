//! Finding records of the DynamoDB adapter.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{get_n, get_s, n, s, Item};
use super::{backend, corrupt, job_pk, DynamoStore};
use crate::state::{Finding, FindingStatus, FindingStore, StateError};

fn to_item(f: &Finding) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), s(job_pk(&f.tenant, &f.job)));
    item.insert("sk".into(), s(format!("FINDING#{}", f.key)));
    item.insert("tenant".into(), s(&f.tenant));
    item.insert("job".into(), s(&f.job));
    item.insert("key".into(), s(&f.key));
    item.insert("status".into(), s(f.status.as_str()));
    item.insert("first_seen".into(), n(f.first_seen));
    item.insert("data".into(), s(f.data.to_string()));
    for (name, value) in [
        ("last_notified", f.last_notified),
        ("resolved_at", f.resolved_at),
        ("expires_at", f.expires_at),
    ] {
        if let Some(v) = value {
            item.insert(name.into(), n(v));
        }
    }
    item
}

fn from_item(item: &Item) -> Result<Finding, crate::state::StateError> {
    let text =
        |name: &str| get_s(item, name).ok_or_else(|| corrupt(format!("finding without {name}")));
    let status = text("status")?;
    Ok(Finding {
        tenant: text("tenant")?,
        job: text("job")?,
        key: text("key")?,
        status: FindingStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("finding status {status:?}")))?,
        first_seen: get_n(item, "first_seen")
            .ok_or_else(|| corrupt("finding without first_seen"))?,
        last_notified: get_n(item, "last_notified"),
        resolved_at: get_n(item, "resolved_at"),
        data: serde_json::from_str(&text("data")?).map_err(|e| corrupt(e.to_string()))?,
        expires_at: get_n(item, "expires_at"),
    })
}

#[async_trait]
impl FindingStore for DynamoStore {
    async fn get_finding(
        &self,
        tenant: &str,
        job: &str,
        key: &str,
    ) -> Result<Option<Finding>, StateError> {
        let item = self
            .get_item(job_pk(tenant, job), &format!("FINDING#{key}"))
            .await?;
        item.as_ref().map(from_item).transpose()
    }

    async fn put_finding(&self, f: &Finding) -> Result<(), StateError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(f)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn list_findings(&self, tenant: &str, job: &str) -> Result<Vec<Finding>, StateError> {
        let mut findings = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(job_pk(tenant, job)))
                .expression_attribute_values(":prefix", AttributeValue::S("FINDING#".into()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(backend)?;
            for item in out.items() {
                findings.push(from_item(item)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(findings)
    }

    async fn list_findings_after(
        &self,
        tenant: &str,
        job: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Finding>, StateError> {
        // One condition per sort key: `BETWEEN` from just after `FINDING#<after>` (a NUL sorts
        // before every other character) to the end of the `FINDING#` prefix ('$' follows '#').
        let from = match after {
            Some(key) => format!("FINDING#{key}\u{0}"),
            None => "FINDING#".to_string(),
        };
        let mut findings = Vec::new();
        let mut start: Option<Item> = None;
        while findings.len() < limit {
            let page = i32::try_from(limit - findings.len()).unwrap_or(i32::MAX);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(job_pk(tenant, job)))
                .expression_attribute_values(":from", AttributeValue::S(from.clone()))
                .expression_attribute_values(":to", AttributeValue::S("FINDING$".into()))
                .consistent_read(true)
                .limit(page)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(backend)?;
            for item in out.items() {
                let sk = get_s(item, "sk").unwrap_or_default();
                if sk.starts_with("FINDING#") {
                    findings.push(from_item(item)?);
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        findings.truncate(limit);
        Ok(findings)
    }
}
