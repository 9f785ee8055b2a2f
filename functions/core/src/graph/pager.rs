//! Pull paging over `@odata.nextLink` (Graph docs `paging.md`): follow the link until it is absent, never build
//! page URLs (`$skip` is not supported on users, REFERENCE §1), and hold one page at a time.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::client::GraphClient;
use super::error::GraphError;
use super::request::GraphRequest;

/// One page of a collection and the link to the next one.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Page<T> {
    #[serde(rename = "value")]
    pub items: Vec<T>,
    /// Absent on the last page. Opaque: store it to resume a scan, never edit it.
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
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
