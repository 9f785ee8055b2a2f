//! The one transport rule every outbound URL follows (Graph and login overrides, sink URLs, JWKS
//! URLs): `https`, or plain `http` to a loopback address only (the emulator, a local proxy or a
//! test receiver). Tokens, signed alerts and webhook URLs must not cross a network in clear text.

use url::{Host, Url};

/// Whether `url` names this machine: `localhost`, 127.0.0.0/8 or `::1`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether `url` may carry secrets: `https` anywhere, `http` to loopback only.
pub fn is_secure_transport(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
    }
}

/// Why [`checked_url`] refused a URL. The message never repeats the URL: a sink URL is a secret
/// (a Slack or Teams webhook URL is its own credential). Callers prefix the setting's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    #[error("is not a URL")]
    NotAUrl,
    #[error("must be https (plain http only to a loopback address)")]
    Insecure { scheme: String, host: String },
}

/// The rule itself, for every caller (Graph client, configuration validation, sinks, JWKS fetch):
/// parses `text` and accepts it only when it may carry secrets ([`is_secure_transport`]).
pub fn checked_url(text: &str) -> Result<Url, UrlRefused> {
    let url = Url::parse(text).map_err(|_| UrlRefused::NotAUrl)?;
    if is_secure_transport(&url) {
        Ok(url)
    } else {
        Err(UrlRefused::Insecure {
            scheme: url.scheme().to_string(),
            host: url.host_str().unwrap_or("").to_string(),
        })
    }
}

/// An HTTP client that sends no redirect on (a 3xx is answered as is) and gives up after
/// `timeout`. Fails, rather than falling back to a client without those limits, when the TLS
/// backend cannot be initialised.
pub fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .user_agent(concat!("entrawatch/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secure(text: &str) -> bool {
        is_secure_transport(&Url::parse(text).unwrap())
    }

    #[test]
    fn https_anywhere_and_http_only_to_loopback() {
        assert!(secure("https://hooks.slack.com/services/x"));
        assert!(secure("http://127.0.0.1:8080/hook"));
        assert!(secure("http://127.9.9.9/hook"));
        assert!(secure("http://[::1]:9000/hook"));
        assert!(secure("http://LOCALHOST/hook"));
        assert!(!secure("http://hooks.example.com/hook"));
        assert!(!secure("http://10.0.0.5/hook"));
        assert!(!secure("http://localhost.evil.example/hook"));
        assert!(!secure("http://127.0.0.1.nip.io/hook"));
        assert!(!secure("ftp://127.0.0.1/hook"));
    }

    #[test]
    fn checked_url_names_why_and_never_repeats_the_url() {
        assert!(checked_url("https://graph.microsoft.com/v1.0").is_ok());
        assert_eq!(checked_url("not a url"), Err(UrlRefused::NotAUrl));
        let refused = checked_url("http://hooks.example.com/services/T0/B0/s3cret").unwrap_err();
        assert_eq!(
            refused,
            UrlRefused::Insecure {
                scheme: "http".into(),
                host: "hooks.example.com".into()
            }
        );
        let message = refused.to_string();
        assert_eq!(
            message,
            "must be https (plain http only to a loopback address)"
        );
        assert!(!message.contains("s3cret"), "{message}");
    }
}
