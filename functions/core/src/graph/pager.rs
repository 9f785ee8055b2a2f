//! Pull paging over `@odata.nextLink` (Graph docs `paging.md`): follow the link until it is absent, never build
//! page URLs (`$skip` is not supported on users, REFERENCE §1), and hold one page at a time.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::client::GraphClient;
use super::error::GraphError;
use super::request::GraphRequest;

/// One page of a collection and the link to the next one.
///
/// A record that does not parse is set aside in `malformed` (its id, when it has one, and why) and the rest of the
/// page is kept: one bad record must not stop a scan at its page forever, and a job decides what an unreadable
/// record means (break-glass alerts it; the dormant scan reports and counts it).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Absent on the last page. Opaque: store it to resume a scan, never edit it.
    pub next_link: Option<String>,
    pub malformed: Vec<Malformed>,
}

/// A record of a page that did not parse.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    /// The record's `id`, when it has a string one.
    pub id: Option<String>,
    /// Why it did not parse (serde's message: the field and what it expected; it may quote the bad value).
    pub error: String,
    /// The record as Graph sent it, for a job that alerts on what could be read.
    pub raw: serde_json::Value,
}

impl<T> Page<T> {
    /// A page of well-formed items.
    pub fn of(items: Vec<T>, next_link: Option<String>) -> Self {
        Page {
            items,
            next_link,
            malformed: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
struct RawPage {
    #[serde(rename = "value")]
    items: Vec<serde_json::Value>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Page<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawPage::deserialize(deserializer)?;
        let mut page = Page::of(Vec::with_capacity(raw.items.len()), raw.next_link);
        for value in raw.items {
            match T::deserialize(&value) {
                Ok(item) => page.items.push(item),
                Err(e) => page.malformed.push(Malformed {
                    id: value.get("id").and_then(|v| v.as_str()).map(str::to_string),
                    error: e.to_string(),
                    raw: value,
                }),
            }
        }
        Ok(page)
    }
}

impl<T: DeserializeOwned> Page<T> {
    /// Parses an OData collection body (`{"value": [...], "@odata.nextLink": "..."}`).
    pub fn from_json(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

enum Cursor {
    Start(GraphRequest),
    Next(String),
    Done,
}

/// Pages of a Graph collection, fetched one at a time on [`Pager::next_page`]. Memory stays at one page whatever
/// the tenant size. A failed fetch leaves the pager where it was, so the caller may retry or checkpoint.
pub struct Pager<T> {
    client: GraphClient,
    cursor: Cursor,
    pages: u64,
    page_size: Option<u32>,
    items: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pager<T> {
    pub(crate) fn new(client: GraphClient, request: GraphRequest) -> Self {
        let page_size = request.page_size();
        Pager {
            client,
            cursor: Cursor::Start(request),
            pages: 0,
            page_size,
            items: PhantomData,
        }
    }

    /// Continues a scan from a next link saved by an earlier process ([`Pager::checkpoint`] or
    /// [`Page::next_link`]). The link must point at this client's Graph host.
    pub fn resume(client: GraphClient, next_link: impl Into<String>) -> Self {
        Pager {
            client,
            cursor: Cursor::Next(next_link.into()),
            pages: 0,
            page_size: None,
            items: PhantomData,
        }
    }

    /// The next page, or `None` after the last one.
    pub async fn next_page(&mut self) -> Result<Option<Page<T>>, GraphError> {
        let url = match &self.cursor {
            Cursor::Done => return Ok(None),
            Cursor::Start(request) => self.client.request_url(request)?,
            Cursor::Next(link) => self.client.next_link_url(link)?,
        };
        let page: Page<T> = self.client.get_json(&url).await?;
        self.cursor = match &page.next_link {
            Some(link) => Cursor::Next(link.clone()),
            None => Cursor::Done,
        };
        self.pages += 1;
        Ok(Some(page))
    }

    /// Where to resume after the pages fetched so far: the pending next link, `None` before the first page and
    /// after the last.
    pub fn checkpoint(&self) -> Option<&str> {
        match &self.cursor {
            Cursor::Next(link) => Some(link),
            _ => None,
        }
    }

    /// Pages fetched by this pager.
    pub fn pages_fetched(&self) -> u64 {
        self.pages
    }

    /// The page size asked for (`$top`), when the request set one.
    pub fn page_size(&self) -> Option<u32> {
        self.page_size
    }
}
