//! Creates the table from `infra/dynamodb-table.json`, the CloudFormation `Properties` the SAM
//! template uses, so tests and deployments share one definition.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType,
    SseSpecification, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use serde_json::Value;

use super::backend;
use crate::state::StateError;

/// The table definition, in CloudFormation `AWS::DynamoDB::Table` `Properties` shape.
pub const DEFINITION: &str = include_str!("../../../../../infra/dynamodb-table.json");

fn bad(reason: impl Into<String>) -> StateError {
    StateError::Corrupt {
        backend: "dynamodb table definition",
        reason: reason.into(),
    }
}

fn text<'a>(v: &'a Value, name: &str) -> Result<&'a str, StateError> {
    v[name]
        .as_str()
        .ok_or_else(|| bad(format!("missing {name}")))
}

fn key_schema(v: &Value) -> Result<Vec<KeySchemaElement>, StateError> {
    let mut keys = Vec::new();
    for k in v.as_array().ok_or_else(|| bad("KeySchema is not a list"))? {
        let key_type = KeyType::from(text(k, "KeyType")?);
        keys.push(
            KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName")?)
                .key_type(key_type)
                .build()
                .map_err(|e| bad(e.to_string()))?,
        );
    }
    Ok(keys)
}

/// Creates `table` as `definition` (JSON text, e.g. [`DEFINITION`]) describes it, then turns on
/// its TTL and point-in-time recovery (separate API calls outside CloudFormation).
pub async fn create_table(
    client: &Client,
    table: &str,
    definition: &str,
) -> Result<(), StateError> {
    let def: Value = serde_json::from_str(definition).map_err(|e| bad(e.to_string()))?;
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::from(text(&def, "BillingMode")?))
        .set_key_schema(Some(key_schema(&def["KeySchema"])?));
    for a in def["AttributeDefinitions"]
        .as_array()
        .ok_or_else(|| bad("no AttributeDefinitions"))?
    {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(text(a, "AttributeName")?)
                .attribute_type(ScalarAttributeType::from(text(a, "AttributeType")?))
                .build()
                .map_err(|e| bad(e.to_string()))?,
        );
    }
    for g in def["GlobalSecondaryIndexes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(text(
                &g["Projection"],
                "ProjectionType",
            )?))
            .build();
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text(g, "IndexName")?)
                .set_key_schema(Some(key_schema(&g["KeySchema"])?))
                .projection(projection)
                .build()
                .map_err(|e| bad(e.to_string()))?,
        );
    }
    if def["SSESpecification"]["SSEEnabled"].as_bool() == Some(true) {
        create = create.sse_specification(SseSpecification::builder().enabled(true).build());
    }
    create.send().await.map_err(backend)?;

    if let Some(attr) = def["TimeToLiveSpecification"]["AttributeName"].as_str() {
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(attr)
            .enabled(
                def["TimeToLiveSpecification"]["Enabled"]
                    .as_bool()
                    .unwrap_or(true),
            )
            .build()
            .map_err(|e| bad(e.to_string()))?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(backend)?;
    }
    if def["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool() == Some(true)
    {
        let pitr = PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(true)
            .build()
            .map_err(|e| bad(e.to_string()))?;
        client
            .update_continuous_backups()
            .table_name(table)
            .point_in_time_recovery_specification(pitr)
            .send()
            .await
            .map_err(backend)?;
    }
    Ok(())
}
