//! Microsoft Graph adapter: tokens, paging, pacing, retries and typed records for one tenant per client.
//!
//! [`GraphClient`] implements the [`GraphPort`] the jobs use. It never logs or reports a token, secret, assertion
//! or URL query string.

mod assertion;
mod budget;
mod client;
mod count;
mod diagnose;
mod entra_error;
mod error;
pub mod model;
mod odata;
mod pacing;
mod pager;
mod port;
mod request;
mod retry;
mod send;
mod settings;
mod shared_budget;
mod token;
mod token_fetch;
mod unavailable;
mod wait_clock;

pub use assertion::{build_certificate_assertion, ClientCertificate};
pub use client::{GraphClient, GraphMetrics};
pub use error::GraphError;
pub use pacing::Family;
pub use pager::{Malformed, Page, Pager};
pub use port::GraphPort;
pub use request::{
    ApiVersion, AuditQuery, AuditSource, Comparison, GraphRequest, SignInActivityFilter,
    SignInActivityProperty, SignInKind, SignInQuery, TimeWindow, UserQuery, IDS_PER_LOOKUP,
    LOGS_PAGE, USERS_PAGE, USERS_WITH_SIGN_IN_ACTIVITY_PAGE, USER_PROPERTIES,
};
pub use settings::{
    AssertionProvider, ClientCredential, ClientOptions, Cloud, PacingLimits, RateWindow,
    TenantConnection, TenantLabel,
};
pub use shared_budget::{shared_span, SharedBudget, SharedLimits};
pub use unavailable::UnavailableGraph;
pub use wait_clock::{real_clock, wall_epoch_ms, RealClock, WaitClock};
