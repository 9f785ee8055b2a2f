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
}
