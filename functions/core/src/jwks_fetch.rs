//! Fetching a signing-key document (JWKS) for the token validator, shared by `entrawatch token
//! validate` and the API Gateway authorizer. The validator core does no I/O (STYLE.md, rustls):
//! this is the host half, with the rules the core's `JwksCache` documents: HTTPS only (plain http
//! on loopback, for the emulator), no redirects, a size cap checked while reading, a timeout.

use std::time::Duration;

use url::Url;

use crate::net::UrlRefused;

/// How long one fetch may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Why no key document was obtained. Messages name the host, never a token.
#[derive(Debug, thiserror::Error)]
pub enum JwksFetchError {
    #[error("signing keys URL {0:?} is not a URL")]
    NotAUrl(String),
    #[error("refusing to fetch signing keys over {scheme} from {host}: use https (http only on loopback)")]
    Insecure { scheme: String, host: String },
    #[error("cannot fetch signing keys from {host}: {message}")]
    Transport { host: String, message: String },
    #[error("signing keys: {host} answered {status}")]
    Status { host: String, status: u16 },
    #[error("signing keys: the response from {host} is larger than {max_bytes} bytes; refused")]
    TooLarge { host: String, max_bytes: usize },
}

/// An HTTP client for key fetches: no redirects (a redirect could point the validator at keys an
/// attacker controls), [`FETCH_TIMEOUT`]. Build it once and reuse it. Fails rather than fall
/// back to a client without those limits.
pub fn client() -> Result<reqwest::Client, String> {
    crate::net::http_client(FETCH_TIMEOUT)
}

/// Parses a JWKS URL and refuses anything but https, or http to a loopback address.
pub fn checked_url(text: &str) -> Result<Url, JwksFetchError> {
    crate::net::checked_url(text).map_err(|e| match e {
        UrlRefused::NotAUrl => JwksFetchError::NotAUrl(text.to_string()),
        UrlRefused::Insecure { scheme, host } => JwksFetchError::Insecure { scheme, host },
    })
}

/// GETs `url` and returns the body, at most `max_bytes` long (the validator's `MAX_JWKS_BYTES`).
/// The body is not parsed here: the caller hands it to `KeySet::parse` or `JwksCache::fetch_succeeded`.
pub async fn fetch_jwks(
    http: &reqwest::Client,
    url: &str,
    max_bytes: usize,
) -> Result<Vec<u8>, JwksFetchError> {
    let url = checked_url(url)?;
    let host = url.host_str().unwrap_or("").to_string();
    let transport = |e: reqwest::Error| JwksFetchError::Transport {
        host: host.clone(),
        message: e.without_url().to_string(),
    };
    let mut response = http.get(url.clone()).send().await.map_err(transport)?;
    if !response.status().is_success() {
        return Err(JwksFetchError::Status {
            host,
            status: response.status().as_u16(),
        });
    }
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(JwksFetchError::TooLarge { host, max_bytes });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > max_bytes {
            return Err(JwksFetchError::TooLarge { host, max_bytes });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_off_loopback() {
        assert!(matches!(
            checked_url("http://login.example.com/common/discovery/v2.0/keys"),
            Err(JwksFetchError::Insecure { .. })
        ));
        assert!(checked_url("http://127.0.0.1:8080/t/discovery/v2.0/keys").is_ok());
        assert!(checked_url("http://[::1]:8080/t/discovery/v2.0/keys").is_ok());
        assert!(
            checked_url("https://login.microsoftonline.com/common/discovery/v2.0/keys").is_ok()
        );
        assert!(matches!(
            checked_url("not a url"),
            Err(JwksFetchError::NotAUrl(_))
        ));
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_refused() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let body = format!("{{\"keys\":[],\"pad\":\"{}\"}}", "x".repeat(4096));
        let app = axum::Router::new().route(
            "/keys",
            axum::routing::get(move || {
                let body = body.clone();
                async move { body }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let url = format!("http://{addr}/keys");
        let small = fetch_jwks(&client().unwrap(), &url, 1024).await;
        assert!(
            matches!(small, Err(JwksFetchError::TooLarge { .. })),
            "{small:?}"
        );
        let fits = fetch_jwks(&client().unwrap(), &url, 64 * 1024)
            .await
            .unwrap();
        assert!(fits.starts_with(b"{\"keys\""));
    }
}
