//! entrawatch core: the domain (detections, alerts), its ports, and the adapters every job uses.

pub mod secret;

pub use secret::Secret;
