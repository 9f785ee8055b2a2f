//! entrawatch core: the domain (detections, alerts), its ports, and the adapters every job uses.

pub mod config;
pub mod secret;
pub mod secrets;

pub use secret::Secret;
