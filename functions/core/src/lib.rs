//! entrawatch core: the domain (detections, alerts), its ports, and the adapters every job uses.

pub mod alert;
pub mod aws;
pub mod aws_identity;
pub mod config;
pub mod graph;
pub mod inventory;
pub mod jobs;
pub mod jwks_fetch;
pub mod net;
pub mod outbox;
pub mod progress;
pub mod redact;
pub mod secrets;
pub mod sinks;
pub mod state;

pub use secrets::Secret;
