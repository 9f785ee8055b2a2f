//! What the entrawatch function crates' tests share: a test double of the Lambda Runtime API
//! ([`RuntimeApi`]), so a function binary runs exactly as on Lambda; starting the binary against
//! it with the Lambda environment and reading the EMF lines it prints ([`spawn_function`],
//! [`emf_lines`]); the emulator's sample tenant as the scheduled functions' tests configure it
//! ([`sample`]); and the loopback listener the doubles serve on ([`serve_loopback`]).

mod api;
mod function;
pub mod sample;

pub use api::{Outcome, RuntimeApi};
pub use function::{emf_lines, spawn_function};

use std::net::SocketAddr;

use axum::Router;

/// Serves `app` on a free port of 127.0.0.1 (a double is never reachable from elsewhere) until
/// the test's runtime stops, and returns its address.
pub async fn serve_loopback(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("the bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}
