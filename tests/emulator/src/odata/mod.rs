//! OData query options as Graph uses them.

pub mod eval;
pub mod filter;
mod lexer;
pub mod query;

pub use filter::{Expr, Lit, Op};
pub use query::{QueryOptions, Version};
