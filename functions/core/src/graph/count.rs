//! `GET /users/$count`: how many users a tenant has, so progress can show a total. Graph answers it only as an
//! advanced query, with `ConsistencyLevel: eventual`, and as `text/plain` (Graph docs `user-list.md`, "Get only a
//! count of users"; without the header it is `400 Request_BadRequest`, `aad-advanced-queries.md`). It is a
//! directory read: it costs nothing of the reports or signInActivity budgets a dormant scan is paced by.

use super::client::GraphClient;
use super::diagnose::FailedResponse;
use super::error::GraphError;
use super::pacing::Family;
use super::request::GraphRequest;

const COUNT: &[(&str, &str)] = &[("accept", "text/plain"), ("consistencylevel", "eventual")];

impl GraphClient {
    /// The tenant's number of users (eventually consistent: a user created a moment ago may be missing).
    pub async fn user_count(&self) -> Result<u64, GraphError> {
        let url = self.request_url(&GraphRequest::user_count())?;
        let families = Family::of(&url);
        self.token_before_the_grant().await?;
        let (content_type, body) = self
            .retrying(url.path(), families, || {
                self.get_once(&url, families, COUNT)
            })
            .await?;
        parse_count(&body).ok_or_else(|| {
            FailedResponse {
                tenant: &self.inner.tenant,
                status: 200,
                path: url.path(),
                content_type: &content_type,
                body: &body,
                hide: &[],
            }
            .unexpected()
        })
    }
}

/// The number in a `$count` body, tolerating surrounding whitespace and a UTF-8 byte-order mark.
fn parse_count(body: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(body).ok()?;
    text.trim_start_matches('\u{feff}').trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_body_is_a_bare_number() {
        assert_eq!(parse_count(b"893"), Some(893));
        assert_eq!(parse_count("\u{feff}893\r\n".as_bytes()), Some(893));
        assert_eq!(parse_count(b"{\"value\":893}"), None);
        assert_eq!(parse_count(b""), None);
    }

    #[test]
    fn the_count_is_a_directory_read() {
        let url = url::Url::parse("https://graph.microsoft.com/v1.0/users/$count").unwrap();
        assert_eq!(Family::of(&url), &[Family::Directory]);
        assert_eq!(
            GraphRequest::user_count().path_and_query(),
            "/v1.0/users/$count"
        );
    }
}
