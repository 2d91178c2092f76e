//! Reading self-service requests: content negotiation (HTML or JSON), submission bodies (JSON or form), and
//! the signs that an api flow is being driven by a browser.

use actix_web::HttpRequest;
use actix_web::http::header;
use serde_json::{Map, Value};

use crate::error::IdentityError;

/// Whether the client wants JSON rather than HTML redirects: a JSON body, or an `Accept` header that
/// prefers `application/json` to HTML (an explicit `application/json` beats a `*/*` of equal weight). No
/// `Accept` (and `*/*`) means a browser navigation.
pub fn wants_json(req: &HttpRequest) -> bool {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")) {
        return true;
    }
    let Some(accept) = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return false };
    let mut json_q = None;
    let mut html_q = None;
    let mut html_exact = false;
    for part in accept.split(',') {
        let mut it = part.split(';');
        let media = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q =
            it.filter_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse::<f32>().ok())).next().unwrap_or(1.0);
        match media.as_str() {
            "application/json" => json_q = Some(json_q.map_or(q, |x: f32| x.max(q))),
            "text/html" => {
                html_exact = true;
                html_q = Some(html_q.map_or(q, |x: f32| x.max(q)));
            }
            "text/*" | "*/*" => html_q = Some(html_q.map_or(q, |x: f32| x.max(q))),
            _ => {}
        }
    }
    match (json_q, html_q) {
        // On a tie an exact `text/html` wins, a wildcard loses to the explicit `application/json`.
        (Some(j), Some(h)) => j > 0.0 && (j > h || (j == h && !html_exact)),
        (Some(j), None) => j > 0.0,
        _ => false,
    }
}

/// Largest submission body.
pub const MAX_BODY: usize = 64 * 1024;

/// A submission as a JSON object, whether it came as JSON or as a form (dotted form keys such as
/// `traits.name.first` become nested objects).
pub fn parse_submission(req: &HttpRequest, body: &[u8]) -> Result<Map<String, Value>, IdentityError> {
    if body.len() > MAX_BODY {
        return Err(IdentityError::BadRequest(format!("The request body exceeds {MAX_BODY} bytes.")));
    }
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if media == "application/x-www-form-urlencoded" {
        let mut out = Map::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            insert_dotted(&mut out, &k, Value::String(v.into_owned()));
        }
        return Ok(out);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(IdentityError::BadRequest("The request body must be a JSON object.".into())),
        Err(e) => Err(IdentityError::BadRequest(format!("Unable to decode JSON payload: {e}"))),
    }
}

fn insert_dotted(out: &mut Map<String, Value>, key: &str, value: Value) {
    let mut parts = key.split('.').peekable();
    let mut cur = out;
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(p.to_owned(), value);
            return;
        }
        let next = cur.entry(p.to_owned()).or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        let Value::Object(m) = next else { return };
        cur = m;
    }
}

/// A string field of a submission.
pub fn field<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// Why an api-flow submission looks like it came from a browser (and must be refused): an `Origin` header,
/// or cookies other than a CDN's own.
pub fn browser_signal(req: &HttpRequest) -> Option<&'static str> {
    if req.headers().contains_key(header::ORIGIN) {
        return Some(
            "The request carried an Origin header, so it was made by a browser, but the flow was started for a native app (api flow). Start a browser flow instead.",
        );
    }
    let cookies = req.cookies().ok()?;
    let foreign = cookies.iter().any(|c| {
        let n = c.name();
        !(n.starts_with("__cf") || n.starts_with("_cf") || n.starts_with("cf_"))
    });
    foreign.then_some(
        "The request carried cookies, so it was made by a browser, but the flow was started for a native app (api flow). Start a browser flow instead.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn negotiation_follows_accept_and_content_type() {
        let json = |accept: Option<&str>, ct: Option<&str>| {
            let mut r = TestRequest::default();
            if let Some(a) = accept {
                r = r.insert_header((header::ACCEPT, a));
            }
            if let Some(c) = ct {
                r = r.insert_header((header::CONTENT_TYPE, c));
            }
            wants_json(&r.to_http_request())
        };
        assert!(!json(None, None));
        assert!(!json(Some("*/*"), None));
        assert!(!json(Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"), None));
        assert!(json(Some("application/json"), None));
        assert!(json(Some("application/json, text/plain, */*"), None), "what axios and fetch wrappers send");
        assert!(!json(Some("text/html, application/json"), None));
        assert!(json(None, Some("application/json; charset=utf-8")));
        assert!(!json(Some("application/json;q=0.5, text/html"), None));
    }

    #[test]
    fn form_keys_nest() {
        let req = TestRequest::default()
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .to_http_request();
        let m = parse_submission(&req, b"traits.email=a%40b.co&traits.name.first=A&method=password").unwrap();
        assert_eq!(m["traits"]["email"], "a@b.co");
        assert_eq!(m["traits"]["name"]["first"], "A");
        assert_eq!(m["method"], "password");
    }
}
