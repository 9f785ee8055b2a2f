//! Query options (`$select`, `$top`, `$filter`, `$expand`, `$skiptoken`) and `@odata.nextLink` building.
//! Graph accepts the options with or without the `$` prefix (Graph docs `query-parameters`); an option an
//! endpoint does not support is refused with 400 rather than ignored.

use super::filter::{self, Expr};
use crate::errors::GraphError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    Beta,
}

impl Version {
    pub fn from_segment(seg: &str) -> Option<Version> {
        match seg {
            "v1.0" => Some(Version::V1),
            "beta" => Some(Version::Beta),
            _ => None,
        }
    }
    pub fn segment(self) -> &'static str {
        match self {
            Version::V1 => "v1.0",
            Version::Beta => "beta",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct QueryOptions {
    pub select: Option<Vec<String>>,
    pub top: Option<u64>,
    pub filter: Option<Expr>,
    pub filter_text: Option<String>,
    pub expand: Option<String>,
    pub skiptoken: Option<String>,
    /// Every option as received, to carry into `@odata.nextLink`.
    pairs: Vec<(String, String)>,
}

const KNOWN: [&str; 9] = [
    "select",
    "top",
    "filter",
    "expand",
    "skiptoken",
    "count",
    "orderby",
    "search",
    "skip",
];

impl QueryOptions {
    /// Parses the raw query string; `allowed` names the options (without `$`) this endpoint supports.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<QueryOptions, GraphError> {
        let mut q = QueryOptions::default();
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let name = k.strip_prefix('$').unwrap_or(&k).to_ascii_lowercase();
            let dollar = k.starts_with('$');
            if !allowed.contains(&name.as_str()) {
                if dollar || KNOWN.contains(&name.as_str()) {
                    return Err(GraphError::bad_request(format!(
                        "Query option '{k}' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings."
                    )));
                }
                // Graph ignores query parameters that are not OData options.
                continue;
            }
            match name.as_str() {
                "select" => {
                    q.select = Some(
                        v.split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    )
                }
                "top" => {
                    let n: u64 = v.trim().parse().map_err(|_| {
                        GraphError::bad_request(format!(
                            "Invalid value '{v}' for $top query option found."
                        ))
                    })?;
                    q.top = Some(n);
                }
                "filter" => {
                    let e = filter::parse(&v).map_err(|e| {
                        GraphError::bad_request(format!("Invalid filter clause: {e}"))
                    })?;
                    q.filter = Some(e);
                    q.filter_text = Some(v.to_string());
                }
                "expand" => q.expand = Some(v.trim().to_string()),
                "skiptoken" => q.skiptoken = Some(v.to_string()),
                _ => {}
            }
            q.pairs.push((k.to_string(), v.to_string()));
        }
        Ok(q)
    }

    /// `$top` with Graph's default and maximum; above the maximum is a 400 (Graph docs `user-list`, `signin-list`).
    pub fn page_size(&self, default: u64, max: u64) -> Result<u64, GraphError> {
        match self.top {
            None => Ok(default),
            Some(0) => Err(GraphError::bad_request(
                "Invalid page size specified: '0'. Must be between 1 and the maximum.",
            )),
            Some(n) if n > max => Err(GraphError::bad_request(format!(
                "Invalid page size specified: '{n}'. Must be between 1 and {max} inclusive."
            ))),
            Some(n) => Ok(n),
        }
    }

    pub fn selects(&self, prop: &str) -> bool {
        self.select
            .as_ref()
            .is_some_and(|s| s.iter().any(|p| p.eq_ignore_ascii_case(prop)))
    }

    /// The absolute link to the next page: the same options with a new `$skiptoken`.
    pub fn next_link(&self, base: &str, path: &str, skiptoken: &str) -> String {
        let mut parts = Vec::new();
        for (k, v) in self
            .pairs
            .iter()
            .filter(|(k, _)| !k.trim_start_matches('$').eq_ignore_ascii_case("skiptoken"))
        {
            parts.push(format!("{}={}", encode(k), encode(v)));
        }
        parts.push(format!("$skiptoken={}", encode(skiptoken)));
        format!("{base}{path}?{}", parts.join("&"))
    }
}

fn encode(s: &str) -> String {
    // `byte_serialize` writes spaces as '+' and a literal '+' as %2B, so this swap is safe; Graph uses %20.
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
        .replace("%24", "$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_dollar_option_is_refused() {
        assert!(QueryOptions::parse(Some("$orderby=displayName"), &["top"]).is_err());
        assert!(QueryOptions::parse(Some("foo=bar&top=5"), &["top"]).is_ok());
    }

    #[test]
    fn next_link_keeps_options_and_replaces_skiptoken() {
        let q = QueryOptions::parse(
            Some("$top=2&$filter=userId%20eq%20'a'&$skiptoken=old"),
            &["top", "filter", "skiptoken"],
        )
        .expect("parses");
        let link = q.next_link("http://127.0.0.1:1", "/v1.0/auditLogs/signIns", "new");
        assert_eq!(link, "http://127.0.0.1:1/v1.0/auditLogs/signIns?$top=2&$filter=userId%20eq%20%27a%27&$skiptoken=new");
    }
}
