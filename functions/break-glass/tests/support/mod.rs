pub mod function;
pub mod runtime_api;
