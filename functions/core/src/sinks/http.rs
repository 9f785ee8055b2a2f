//! The HTTP POST every remote sink makes, and how its outcome maps to [`SinkError`].
//! Errors never include the URL: webhook URLs are secrets (SPEC.md "Configuration").

use std::time::Duration;

use reqwest::header::HeaderMap;

use super::SinkError;
use crate::redact;
use crate::Secret;

/// Longest `Retry-After` honoured; a sink asking for more is retried after this anyway: a
/// misbehaving endpoint must not hold a critical alert back for hours.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// Request timeout: Standard Webhooks recommends 15 to 30 s ("Request timeouts").
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// POSTs `body` as JSON to `url`. `permanent` lists statuses that mean "never retry".
pub async fn post_json(
    client: &reqwest::Client,
    url: &Secret,
    headers: HeaderMap,
    body: Vec<u8>,
    permanent: &[u16],
) -> Result<(), SinkError> {
    let response = client
        .post(url.expose())
        .headers(headers)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .timeout(TIMEOUT)
        .body(body)
        .send()
        .await
        .map_err(|e| SinkError::retry(format!("request failed: {}", e.without_url())))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = retry_after(response.headers());
    let detail = response.text().await.unwrap_or_default();
    let detail = redact::mask(&super::truncate(detail.trim(), 200));
    let reason = if detail.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        format!("HTTP {}: {detail}", status.as_u16())
    };
    if permanent.contains(&status.as_u16()) {
        Err(SinkError::Reject { reason })
    } else {
        Err(SinkError::Retry {
            reason,
            retry_after,
        })
    }
}

/// `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
        let secs = (at.timestamp() - chrono::Utc::now().timestamp()).max(0);
        Duration::from_secs(secs as u64)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "30".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(30)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn a_retry_after_of_a_day_is_cut_to_fifteen_minutes() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "86400".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(900)));
    }
}
