//! Claimed writes of the DynamoDB outbox: a dispatcher claims a delivery with one conditional
//! `UpdateItem` (pending and due: never claimed, or its claim expired) that moves
//! `next_attempt_at` to the claim's expiry; every later write is conditional on `claim_owner`,
//! so a dispatcher that lost its claim changes nothing.

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::items::{n, s};
use super::outbox::{alert_pk, delivery_sk, to_delivery};
use super::{backend, DynamoStore};
use crate::state::{Delivery, DeliveryKey, StateError, DEDUP_TTL_SECS};

impl DynamoStore {
    pub(super) async fn claim_item(
        &self,
        key: &DeliveryKey,
        owner: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<Delivery>, StateError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(alert_pk(&key.alert_id)))
            .key("sk", s(delivery_sk(&key.sink)))
            .update_expression("SET claim_owner = :owner, next_attempt_at = :until")
            .condition_expression("#status = :pending AND next_attempt_at <= :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":pending", s("pending"))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out.attributes.as_ref().map(to_delivery).transpose(),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    pub(super) async fn mark_sent_item(
        &self,
        key: &DeliveryKey,
        owner: &str,
        now: i64,
    ) -> Result<(), StateError> {
        let expr = "SET #status = :st, next_attempt_at = :now, expires_at = :exp ADD attempts :one REMOVE due_pk, last_error";
        let values = vec![
            (":st", s("sent")),
            (":now", n(now)),
            (":exp", n(now + DEDUP_TTL_SECS)),
            (":one", n(1)),
        ];
        self.update_claimed(key, owner, expr, values).await
    }

    pub(super) async fn reschedule_item(
        &self,
        key: &DeliveryKey,
        owner: &str,
        attempts: u32,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StateError> {
        let expr = "SET attempts = :a, next_attempt_at = :next, last_error = :err REMOVE expires_at, claim_owner";
        let values = vec![
            (":a", n(attempts.into())),
            (":next", n(next_attempt_at)),
            (":err", s(error)),
        ];
        self.update_claimed(key, owner, expr, values).await
    }

    pub(super) async fn mark_failed_item(
        &self,
        key: &DeliveryKey,
        owner: &str,
        attempts: u32,
        reason: &str,
        now: i64,
    ) -> Result<(), StateError> {
        let expr = "SET #status = :st, attempts = :a, next_attempt_at = :now, last_error = :err, expires_at = :exp REMOVE due_pk";
        let values = vec![
            (":st", s("failed")),
            (":a", n(attempts.into())),
            (":now", n(now)),
            (":err", s(reason)),
            (":exp", n(now + DEDUP_TTL_SECS)),
        ];
        self.update_claimed(key, owner, expr, values).await
    }

    /// One write of a delivery `owner` holds; a failed condition means the claim was lost.
    async fn update_claimed(
        &self,
        key: &DeliveryKey,
        owner: &str,
        expr: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<(), StateError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(alert_pk(&key.alert_id)))
            .key("sk", s(delivery_sk(&key.sink)))
            .update_expression(expr)
            .condition_expression("claim_owner = :owner AND #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":pending", s("pending"));
        for (name, value) in values {
            update = update.expression_attribute_values(name, value);
        }
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(StateError::ClaimLost {
                alert_id: key.alert_id.clone(),
                sink: key.sink.clone(),
                owner: owner.to_string(),
            }),
            Err(e) => Err(backend(e)),
        }
    }
}

fn condition_failed<R>(e: &aws_sdk_dynamodb::error::SdkError<UpdateItemError, R>) -> bool {
    e.as_service_error()
        .is_some_and(|se| se.is_conditional_check_failed_exception())
}
