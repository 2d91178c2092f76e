//! Keyset pagination tokens.
//!
//! A page token is the opaque, URL-safe encoding of the last id on the previous page. Because ids are
//! UUIDv7, "after this id" is "created after this one", so pages stay stable while rows are added.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::ApiError;

/// Default number of items on a page.
pub const DEFAULT_PAGE_SIZE: u32 = 250;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items wanted.
    pub size: u32,
    /// Return items after this id.
    pub after: Option<Uuid>,
}

impl PageRequest {
    /// Validates `page_size` (1..=1000) and decodes `page_token`.
    pub fn parse(page_size: Option<i64>, page_token: Option<&str>) -> Result<Self, ApiError> {
        let size = match page_size {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if (1..=i64::from(MAX_PAGE_SIZE)).contains(&n) => n as u32,
            Some(n) => {
                return Err(ApiError::bad_request(format!("page_size must be between 1 and {MAX_PAGE_SIZE}, got {n}")));
            }
        };
        let after = match page_token.filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some(decode_token(t).ok_or_else(|| ApiError::bad_request("page_token is not valid"))?),
        };
        Ok(Self { size, after })
    }

    /// How many rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.size) + 1
    }
}

/// Encodes the id of the last item on a page.
pub fn encode_token(last: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(last.as_bytes())
}

fn decode_token(token: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    Uuid::from_slice(&bytes).ok()
}

/// Splits an over-fetched list into the page and the token of the next page, if any.
pub fn split_page<T>(mut items: Vec<T>, req: &PageRequest, id_of: impl Fn(&T) -> Uuid) -> (Vec<T>, Option<String>) {
    if items.len() > req.size as usize {
        items.truncate(req.size as usize);
        let next = items.last().map(|i| encode_token(id_of(i)));
        (items, next)
    } else {
        (items, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bad_input_is_rejected() {
        let id = Uuid::now_v7();
        let req = PageRequest::parse(Some(10), Some(&encode_token(id))).unwrap();
        assert_eq!(req, PageRequest { size: 10, after: Some(id) });
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(1001), None).is_err());
        assert!(PageRequest::parse(None, Some("!!!")).is_err());
        assert_eq!(PageRequest::parse(None, Some("")).unwrap().after, None);
    }

    #[test]
    fn split_page_reports_next_token_only_when_more_remain() {
        let req = PageRequest { size: 2, after: None };
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let (page, next) = split_page(ids.clone(), &req, |u| *u);
        assert_eq!(page, ids[..2]);
        assert_eq!(next, Some(encode_token(ids[1])));
        let (page, next) = split_page(ids[..2].to_vec(), &req, |u| *u);
        assert_eq!(page.len(), 2);
        assert_eq!(next, None);
    }
}
