//! Ory's query-string conventions, shared by the engines: repeated keys (`ids`, `expand`), Go-style booleans,
//! and keyset pagination announced in a `Link` header with `page_size` / `page_token` (Kratos and Hydra).

use actix_web::HttpRequest;
use actix_web::web::Query;

/// A query parameter that does not parse; engines map it to their own 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid value `{value}` for parameter `{key}`.")]
pub struct BadParam {
    pub key: String,
    pub value: String,
}

/// A query string as repeated pairs, in the order sent.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// From actix's query extractor.
    pub fn from(q: Query<Vec<(String, String)>>) -> Self {
        Self(q.into_inner())
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of `key`.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }

    /// An integer parameter; absent or empty is `None`.
    pub fn int(&self, key: &str) -> Result<Option<i64>, BadParam> {
        match self.get(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| bad(key, v)),
        }
    }

    /// A boolean parameter as Go parses them (`true`/`1`, `false`/`0`).
    pub fn bool(&self, key: &str) -> Result<Option<bool>, BadParam> {
        match self.get(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some("true") | Some("1") => Ok(Some(true)),
            Some("false") | Some("0") => Ok(Some(false)),
            Some(v) => Err(bad(key, v)),
        }
    }

    /// The pairs with `page_size`/`page_token` replaced, sorted by key as Go encodes them.
    fn with_page(&self, size: i64, token: &str) -> String {
        let mut pairs: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| k != "page_size" && k != "page_token" && k != "per_page" && k != "page")
            .cloned()
            .collect();
        pairs.push(("page_size".into(), size.to_string()));
        pairs.push(("page_token".into(), token.to_owned()));
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    }
}

fn bad(key: &str, value: &str) -> BadParam {
    BadParam { key: key.to_owned(), value: value.to_owned() }
}

/// The keyset `Link` header Ory's list endpoints send: `first` always, `next` when another page follows.
/// URLs are relative and keep the tenant's path prefix (`base_path`).
pub fn link_header(
    req: &HttpRequest,
    base_path: &str,
    params: &Params,
    size: i64,
    first: &str,
    next: Option<&str>,
) -> String {
    let path = format!("{base_path}{}", req.path());
    let mut links = vec![format!("<{path}?{}>; rel=\"first\"", params.with_page(size, first))];
    if let Some(next) = next {
        links.push(format!("<{path}?{}>; rel=\"next\"", params.with_page(size, next)));
    }
    links.join(",")
}
